import { expect } from 'chai';
import {
  buildDcepAck,
  buildDcepOpen,
  DcepChannelType,
  decodeDataMessage,
  encodeDataMessage,
  isOwnStreamId,
  nextStreamId,
  parseDcep,
  Ppid,
  streamIdParity,
} from '../src/media/datachannel/dcep';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// janus.js 1.1.2 calls pc.createDataChannel('JanusDataChannel', { ordered: true }); libwebrtc
// then sends this DATA_CHANNEL_OPEN (RFC 8832 §5.1): type 0x03, channel type 0x00 (reliable,
// ordered), priority 0 (none set), reliability parameter 0, label length 16, protocol length 0.
const JANUS_OPEN = hex('03 00 0000 00000000 0010 0000' + Buffer.from('JanusDataChannel').toString('hex'));

describe('dcep: DATA_CHANNEL_OPEN / ACK codec (RFC 8832)', () => {
  it('parses the OPEN janus.js makes Chrome send', () => {
    expect(parseDcep(JANUS_OPEN)).to.deep.equal({
      type: 'open',
      channelType: 0,
      ordered: true,
      reliability: { kind: 'reliable' },
      priority: 0,
      reliabilityParameter: 0,
      label: 'JanusDataChannel',
      protocol: '',
    });
  });

  it('builds the same bytes', () => {
    expect(buildDcepOpen({ label: 'JanusDataChannel' }).equals(JANUS_OPEN)).to.equal(true);
  });

  it('round-trips unordered partial reliability, priority, protocol and UTF-8', () => {
    const rexmit = buildDcepOpen({ label: 'chät', protocol: 'textroom', ordered: false, reliability: { kind: 'rexmit', maxRetransmits: 3 }, priority: 512 });
    expect(rexmit.toString('hex')).to.equal(
      '03' + '81' + '0200' + '00000003' + '0005' + '0008' + Buffer.from('chät').toString('hex') + Buffer.from('textroom').toString('hex'),
    );
    expect(parseDcep(rexmit)).to.deep.equal({
      type: 'open',
      channelType: DcepChannelType.PARTIAL_RELIABLE_REXMIT_UNORDERED,
      ordered: false,
      reliability: { kind: 'rexmit', maxRetransmits: 3 },
      priority: 512,
      reliabilityParameter: 3,
      label: 'chät',
      protocol: 'textroom',
    });
    const timed = buildDcepOpen({ label: '', reliability: { kind: 'timed', maxPacketLifeTime: 1500 } });
    expect(timed.toString('hex')).to.equal('03' + '02' + '0000' + '000005dc' + '0000' + '0000');
    expect(parseDcep(timed)).to.deep.include({ ordered: true, reliability: { kind: 'timed', maxPacketLifeTime: 1500 }, label: '' });
  });

  it('parses and builds the ACK', () => {
    expect(buildDcepAck().toString('hex')).to.equal('02');
    expect(parseDcep(hex('02'))).to.deep.equal({ type: 'ack' });
  });

  it('rejects truncated, unknown and malformed messages', () => {
    expect(parseDcep(new Uint8Array(0))).to.equal(null);
    expect(parseDcep(JANUS_OPEN.subarray(0, JANUS_OPEN.length - 1))).to.equal(null); // label cut
    expect(parseDcep(JANUS_OPEN.subarray(0, 11))).to.equal(null); // header cut
    expect(parseDcep(hex('04'))).to.equal(null); // unknown message type
    expect(parseDcep(hex('0200'))).to.equal(null); // ACK with trailing bytes
    expect(parseDcep(hex('03 03 0000 00000000 0000 0000'))).to.equal(null); // unknown channel type
  });

  it('reads an OPEN that sits inside a larger buffer (views with offsets)', () => {
    const big = Buffer.concat([hex('ffff'), JANUS_OPEN]);
    const view = new Uint8Array(big.buffer, big.byteOffset + 2, JANUS_OPEN.length);
    expect(parseDcep(view)).to.deep.include({ label: 'JanusDataChannel' });
  });
});

describe('dcep: payload protocol identifiers', () => {
  it('has the RFC 8831/8832 values', () => {
    expect([Ppid.DCEP, Ppid.STRING, Ppid.BINARY, Ppid.STRING_EMPTY, Ppid.BINARY_EMPTY]).to.deep.equal([50, 51, 53, 56, 57]);
  });

  it('encodes text, binary and empty messages', () => {
    expect(encodeDataMessage('hé')).to.deep.equal({ ppid: 51, payload: Buffer.from('hé') });
    expect(encodeDataMessage(new Uint8Array([1, 2]))).to.deep.equal({ ppid: 53, payload: hex('0102') });
    expect(encodeDataMessage('')).to.deep.equal({ ppid: 56, payload: hex('00') });
    expect(encodeDataMessage(new Uint8Array(0))).to.deep.equal({ ppid: 57, payload: hex('00') });
  });

  it('decodes by PPID', () => {
    expect(decodeDataMessage(51, Buffer.from('hé'))).to.deep.equal({ binary: false, data: 'hé' });
    expect(decodeDataMessage(53, hex('0102'))).to.deep.equal({ binary: true, data: hex('0102') });
    expect(decodeDataMessage(56, hex('00'))).to.deep.equal({ binary: false, data: '' });
    expect(decodeDataMessage(57, hex('00'))).to.deep.equal({ binary: true, data: Buffer.alloc(0) });
    expect(decodeDataMessage(50, JANUS_OPEN)).to.equal(null);
    expect(decodeDataMessage(99, hex('00'))).to.equal(null);
  });
});

describe('dcep: stream ids by DTLS role', () => {
  it('gives the DTLS client even ids and the server odd ids', () => {
    expect(streamIdParity('client')).to.equal(0);
    expect(streamIdParity('server')).to.equal(1);
    expect(isOwnStreamId(0, 'client')).to.equal(true);
    expect(isOwnStreamId(1, 'client')).to.equal(false);
    expect(isOwnStreamId(1, 'server')).to.equal(true);
    expect(isOwnStreamId(65535, 'server')).to.equal(false); // reserved
    expect(isOwnStreamId(2.5, 'client')).to.equal(false);
  });

  it('allocates the lowest free id of the right parity', () => {
    expect(nextStreamId('client', new Set())).to.equal(0);
    expect(nextStreamId('client', new Set([0, 2, 3]))).to.equal(4);
    expect(nextStreamId('server', new Set([1]))).to.equal(3);
    expect(nextStreamId('server', new Set([1, 3]), 4)).to.equal(null);
  });
});
