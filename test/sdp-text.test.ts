// The lenient SDP parser/writer: order kept, CRLF out, InvalidSdpError for what is not SDP.
import { expect } from 'chai';
import { InvalidSdpError } from '../src/plugin/media-errors';
import {
  Attributes,
  attr,
  attrFirst,
  attrName,
  attrValue,
  directionOf,
  parseSdp,
  writeSdp,
} from '../src/media/sdp/sdp-text';
import { readSdpFixture } from './fixtures/sdp/fixtures';

function expectInvalid(text: string): void {
  let caught: unknown;
  try {
    parseSdp(text);
  } catch (e) {
    caught = e;
  }
  expect(caught, `no error for ${JSON.stringify(text)}`).to.be.instanceOf(InvalidSdpError);
  expect((caught as InvalidSdpError).name).to.equal('InvalidSdpError');
}

describe('sdp-text: parse and write', () => {
  it('round-trips every recorded client SDP byte for byte (they are CRLF already)', () => {
    for (const name of ['chrome-offer.sdp', 'chrome-simulcast-offer.sdp', 'firefox-offer.sdp', 'wrtc-offer.sdp']) {
      const text = readSdpFixture(name);
      expect(writeSdp(parseSdp(text)), name).to.equal(text);
    }
  });

  it('splits session lines from m-sections and keeps attribute order', () => {
    const sdp = parseSdp(readSdpFixture('chrome-offer.sdp'));
    expect(sdp.session.map((l) => l.type)).to.deep.equal(['v', 'o', 's', 't', 'a', 'a', 'a']);
    expect(sdp.media.map((m) => [m.kind, m.port, m.proto])).to.deep.equal([
      ['audio', 9, 'UDP/TLS/RTP/SAVPF'],
      ['video', 9, 'UDP/TLS/RTP/SAVPF'],
      ['application', 9, 'UDP/DTLS/SCTP'],
    ]);
    expect(sdp.media[0].formats).to.deep.equal(['111', '63', '9', '0', '8', '13', '110', '126']);
    expect(sdp.media[2].formats).to.deep.equal(['webrtc-datachannel']);
    expect(sdp.media[0].lines.slice(0, 3).map((l) => `${l.type}=${l.value}`)).to.deep.equal([
      'c=IN IP4 0.0.0.0',
      'a=rtcp:9 IN IP4 0.0.0.0',
      'a=ice-ufrag:8Hgs',
    ]);
  });

  it('accepts LF-only input and writes CRLF', () => {
    const sdp = parseSdp('v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 9 UDP/TLS/RTP/SAVPF 0\na=sendonly\n');
    expect(writeSdp(sdp)).to.equal('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=sendonly\r\n');
  });

  it('throws InvalidSdpError for text that is not SDP', () => {
    expectInvalid('');
    expectInvalid('hello world');
    expectInvalid('o=- 1 1 IN IP4 1.2.3.4\r\nm=audio 9 RTP/AVP 0\r\n'); // no v= first
    expectInvalid('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n'); // no m=
    expectInvalid('v=0\r\nm=audio nine RTP/AVP 0\r\n'); // bad port
    expectInvalid('v=0\r\nm=audio\r\n'); // short m-line
    expectInvalid('v=0\r\nm=audio 9 RTP/AVP 0\r\nthis is not a line\r\n');
  });

  it('line ends: CRLF or LF, one stray CR before one, blank lines skipped; other breaks inside a line are not SDP', () => {
    const lines = (sdp: ReturnType<typeof parseSdp>): string[] =>
      [...sdp.session, ...sdp.media.flatMap((m) => m.lines)].map((l) => `${l.type}=${l.value}`);
    // A stray \r before \r\n, a whitespace-only line, a blank line, a last line without its \n.
    const sdp = parseSdp('v=0\r\r\n \t\r\n\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 9 RTP/AVP 0\r\na=sendonly\r');
    expect(lines(sdp)).to.deep.equal(['v=0', 'o=- 1 1 IN IP4 1.2.3.4', 'a=sendonly']);
    expect(sdp.media.map((m) => m.kind)).to.deep.equal(['audio']);
    expect(parseSdp('\r\n\nv=0\nm=video 0 RTP/AVP 96').media[0].port).to.equal(0);
    expectInvalid('v=0\r\nm=audio 9 RTP/AVP 0\r\na=x\ry\r\n'); // a CR inside a line
    expectInvalid('v=0\r\nm=audio 9 RTP/AVP 0\r\na=sendonly\r\r\r\n'); // two stray CRs
    expectInvalid('v=0\r\nm=audio 9 RTP/AVP 0\r\na=x\u2028y\r\n'); // a line separator
    expectInvalid('v=0\r\nm=audio 9 RTP/AVP 0\r\na=sendonly\r\r'); // two CRs at the very end
    expectInvalid(' v=0\r\nm=audio 9 RTP/AVP 0\r\n'); // v= not at the start of its line
  });

  it('attribute helpers split at the first colon, like janus-sdp.lua', () => {
    const line = { type: 'a', value: 'fmtp:111 minptime=10;useinbandfec=1' };
    expect(attrName(line)).to.equal('fmtp');
    expect(attrValue(line)).to.equal('111 minptime=10;useinbandfec=1');
    expect(attrName({ type: 'a', value: 'rtcp-mux' })).to.equal('rtcp-mux');
    expect(attrValue({ type: 'a', value: 'rtcp-mux' })).to.equal(undefined);
    expect(attr('msid-semantic', ' WMS *')).to.deep.equal({ type: 'a', value: 'msid-semantic: WMS *' });
    const sdp = parseSdp(readSdpFixture('chrome-offer.sdp'));
    expect(attrFirst(sdp.media[1].lines, 'mid')).to.equal('1');
    expect(new Attributes(sdp.media[2].lines).all('sctp-port')).to.deep.equal(['5000']);
  });

  it('directions: last one wins, default sendrecv', () => {
    expect(directionOf([])).to.equal('sendrecv');
    expect(directionOf([{ type: 'a', value: 'sendonly' }, { type: 'a', value: 'inactive' }])).to.equal('inactive');
  });
});
