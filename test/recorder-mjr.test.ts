import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { codecNamed } from '../src/common/codecs';
import { planRecordings, splitCodecFmtp, stopRecordingTypes, type RecordingChecks, type RecordingGroup } from '../src/common/recording-args';
import { encodeMjrFrame, encodeMjrInfo, formatMjrInfo } from '../src/media/recording/mjr-format';
import { placeRecording, type PlacementOptions } from '../src/media/recording/paths';
import { openRecorders, Recorder, type RecorderClock, RecorderError, type RecorderOptions } from '../src/media/recording/writer';
import { resolveRecordingPath } from '../src/common/recording-roots';
import { buildRtpPacket } from './support/rtp-packet';

/** A recorder at the path placeRecording chooses for its folder and filename. */
const openAt = (options: RecorderOptions & PlacementOptions & { folder?: string; filename?: string }): Recorder =>
  Recorder.open(options, placeRecording(options.folder, options.filename, options));
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const PP_REC = '/usr/bin/janus-pp-rec';

// Real media, encoded once with Debian's libopus 1.3.1 (mono 48 kHz, 16 kbps, 5 x 20 ms of a
// 440 Hz tone) and libvpx 1.12 (VP8 64x48: a keyframe and two interframes), through Python
// ctypes. Payloads only; the RTP around them is built by the tests.
const OPUS_FRAMES = [
  hex(
    '7882b5b76c4724ea0235ad9de8b8e129e43ec356c5268d5610e9ad1896d8eed9843202d69902e785fa3070c57a160989' +
    '9736a0f0a44e74d30d07654d829e6245dcc7095d5d',
  ),
  hex(
    '78a8cbdf57e329bc98e2905512b433df3ac5fac26f848b6108fed183995ef88884b9a657f4d74c6d4d6c6e36272f12e8' +
    '2d70',
  ),
  hex(
    '789eb159693eb4926020cc22ca6800ef1d8874275381c569004abbff5caf2fd342d1cc1a635d2d4c3c598d5ca2cdc322' +
    'ea5eca02aae7d127adcfac',
  ),
  hex(
    '789eb159785c882b9d9984cea1686a636827871c6c003021531ebaf87006805b03b20540299f38bc0964d57b8b1095aa' +
    '2e51eaba93eefd016a52',
  ),
  hex(
    '789eb22c1059d2573b29bddd6b6ac19cb32b423d933e7a0fb016f119f07ab11cdc5e30a44b74a059f956b4a288f37641' +
    '317797d0944613ac',
  ),
];
const VP8_FRAMES = [
  hex(
    '3011009d012a400030000147088585889984880202dc07f407f80f986f417d05f807f80df02fe03fc0717f8063a7fc2b' +
    'f203f6afa58bd01fd25e49ec05fc77f01fe03fc07f557f80fb83b807fb17e0a7e00e94763fef00fe00eb81fe2bf82fec' +
    '77f857e00fe7ff64eff01fe03f881fbffca03fa03eda1404cf7c6481e200e5743d2509d9ab02a437cd85403fcd2f74c1' +
    '9dc800feff23affff4d3fffcd3ebff352cfffa91bfffd77b46dd58f417ed364add35481f5c6fc8718d883bec445963a2' +
    'f48da846ca8aa800605fdabfdb7ba646d021bef8b937b35984da532a6a65051d1cd3b6a413cda125e14e4fa333f3e37f' +
    '829a28a3b6eefc181c898ed1a5cb44dc6645eee49e165f08c4ace2b6d97c48ec785dd6139bf41df1b21c2a7265793665' +
    '773dba7a4f876e3b48d9b94aa3c515c42fc05c9e6ea0923b451d872b7f85ea914195c4288302e701aad3deb436d7eaa2' +
    'c8ac13ae1764fd72fe1428f816a84caefde2c0fc2f548a0cae21441817380d2c8757e5f942722fe4083d9ac046c7edb6' +
    'd8ee11e18b097269a22756d3d67d5f118959c56db2f891d8f0ab8b268dfffe9a7fff9a7d7fe6a59fff522044dc1fe994' +
    '9c',
  ),
  hex(
    '110500051010001ece6a03f8037d34e801f34cfd03840784046a80fe4001893d879e003f574c11acc7e640feeb7e021f' +
    'fe8ec66c38719387c7e5bd4215be2c82babfc000647dfaaf16fd0d8507e47f8000c8fbf56a69fd1fffd31bffb412bfff' +
    'ab92fffd7d943a68efb870fffe8eeb86975b04faffe48a827ff3fb2ceb6e3dd0d7ffc7e4bff7ac820ec6087adc4ba94d' +
    '2685d6c2c82b3ae9ffab7b0b2371ee8207c39d17fdb6fb4eefff7e4cebbdd8445b64cb2512c687417fab259404ccfb70' +
    '3fa000',
  ),
  hex(
    '91020005101000180030282defe806ffad96fafa882080feeb67e0efe3180bfc94cdf7d6723f96aff0da7f418d10a300' +
    'ec616e5fbe7a7cb5bbb80e83e01d3ff39ff000',
  ),
];
// janus-pp-rec's .srt: times relative to the recorder's creation ("s"); each line lasts until
// the next one, the last for 5 s.
const SRT_EXPECTED = '1\n00:00:00.001 --> 00:00:01.500\nhello\n\n2\n00:00:01.501 --> 00:00:06.501\nwörld\n\n';

/** A clock the test moves by hand, so file contents are exact. */
class FakeClock implements RecorderClock {
  mono = 5_000_000;
  real = 1_700_000_000_000_000;
  realTimeUs(): number {
    return this.real;
  }
  monotonicUs(): number {
    return this.mono;
  }
  advance(us: number): void {
    this.mono += us;
    this.real += us;
  }
}

/** Expected .mjr bytes, built independently of the encoder under test. */
function expectedMjr(json: string, frames: { ms: number; body: Buffer; dataUs?: bigint }[]): Buffer {
  const parts: Buffer[] = [Buffer.from('MJR00002', 'latin1')];
  const j = Buffer.from(json, 'utf8');
  const jl = Buffer.alloc(2);
  jl.writeUInt16BE(j.length);
  parts.push(jl, j);
  for (const f of frames) {
    const h = Buffer.alloc(10);
    h.write('MEET', 0, 'latin1');
    h.writeUInt32BE(f.ms, 4);
    h.writeUInt16BE(f.body.length + (f.dataUs === undefined ? 0 : 8), 8);
    parts.push(h);
    if (f.dataUs !== undefined) {
      const t = Buffer.alloc(8);
      t.writeBigUInt64BE(f.dataUs);
      parts.push(t);
    }
    parts.push(f.body);
  }
  return Buffer.concat(parts);
}

function runPpRec(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(PP_REC, args, { encoding: 'utf8', timeout: 20000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('recorder (.mjr)', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'luasfu-recorder-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('recorder: codecs, arguments and paths', () => {
    it('accepts exactly the codecs of docs/contract.md §1, case-insensitively', () => {
      const medium = (c: string): string | null => codecNamed(c)?.medium ?? null;
      for (const c of ['vp8', 'VP9', 'h264', 'av1', 'h265']) expect(medium(c), c).to.equal('video');
      for (const c of ['opus', 'multiopus', 'g711', 'pcmu', 'PCMA', 'g722', 'l16-48', 'l16']) expect(medium(c), c).to.equal('audio');
      for (const c of ['text', 'Binary']) expect(medium(c), c).to.equal('data');
      for (const c of ['', 'vp10', 'isac16', 'h264 ', 'opus/fmtp=x', 'red']) expect(medium(c), c).to.equal(null);
    });

    it('splits codec and fmtp at the first /fmtp=', () => {
      expect(splitCodecFmtp('vp9/fmtp=profile-id=2')).to.deep.equal({ codec: 'vp9', fmtp: 'profile-id=2' });
      expect(splitCodecFmtp('h264/fmtp=a=1/fmtp=b')).to.deep.equal({ codec: 'h264', fmtp: 'a=1/fmtp=b' });
      expect(splitCodecFmtp('OPUS')).to.deep.equal({ codec: 'opus', fmtp: null });
    });

    /** Groups of four as a runtime reads them (null for nil). */
    const groupsOf = (...args: (string | null)[]): RecordingGroup[] => {
      const groups: RecordingGroup[] = [];
      for (let i = 0; i < args.length; i += 4) groups.push({ type: args[i], codec: args[i + 1], folder: args[i + 2], filename: args[i + 3] });
      return groups;
    };
    const checks = (recording: string[] = [], allowed: RecordingChecks['pathAllowed'] = () => true): RecordingChecks => ({
      isRecording: (type) => recording.includes(type),
      pathAllowed: allowed,
    });

    it('turns the echotest call into three recordings', () => {
      const r = planRecordings(groupsOf('audio', 'opus', '/tmp', 'x-audio', 'video', 'VP8', '/tmp', 'x-video', 'data', 'text', '/tmp', 'x-data'), checks());
      expect(r).to.deep.equal({
        ok: true,
        warnings: [],
        recordings: [
          { type: 'audio', codec: 'opus', fmtp: null, folder: '/tmp', filename: 'x-audio' },
          { type: 'video', codec: 'vp8', fmtp: null, folder: '/tmp', filename: 'x-video' },
          { type: 'data', codec: 'text', fmtp: null, folder: '/tmp', filename: 'x-data' },
        ],
      });
    });

    it('follows janus_lua.c / janus_duktape.c for nil groups, fmtp, duplicates, unknown types, bad codecs and paths', () => {
      expect(planRecordings(groupsOf('VIDEO', 'vp9/fmtp=profile-id=2', null, 'rec/v'), checks())).to.deep.equal({
        ok: true,
        warnings: [],
        recordings: [{ type: 'video', codec: 'vp9', fmtp: 'profile-id=2', folder: null, filename: 'rec/v' }],
      });
      // nil type or codec: skipped; nothing left -> failure
      expect(planRecordings(groupsOf(null, 'opus', null, null, 'audio', null, null, null), checks())).to.deep.equal({
        ok: false, error: 'No recording created', warnings: [],
      });
      // one bad codec fails the whole call
      expect(planRecordings(groupsOf('audio', 'opus', null, 'a', 'video', 'theora', null, 'v'), checks())).to.deep.equal({
        ok: false, error: "Unsupported codec 'theora'", warnings: [],
      });
      // a path outside the recording roots fails the whole call
      const outside = planRecordings(groupsOf('audio', 'opus', null, 'a', 'video', 'vp8', '/etc', 'v'), checks([], (folder) => folder === null));
      expect(outside).to.deep.equal({ ok: false, error: '/etc v is outside the recording folders', warnings: [] });
      // duplicates, in the call or already recording, are skipped with a warning
      expect(planRecordings(groupsOf('audio', 'opus', null, 'a', 'audio', 'pcmu', null, 'b', 'video', 'vp8', null, 'v'), checks(['video']))).to.deep.equal({
        ok: true,
        warnings: ['Duplicate audio recording, skipping', 'Duplicate video recording, skipping'],
        recordings: [{ type: 'audio', codec: 'opus', fmtp: null, folder: null, filename: 'a' }],
      });
      expect(planRecordings(groupsOf('video', 'vp8', null, 'v'), checks(['video'])).ok).to.equal(false);
      // an unknown type still counts (Janus creates that recorder and answers 0), but records nothing
      expect(planRecordings(groupsOf('screen', 'vp8', null, 'v'), checks())).to.deep.equal({
        ok: true,
        warnings: ["Unknown recording type 'screen', ignored"],
        recordings: [],
      });
    });

    it('reads stopRecording types (nil and unknown skipped, each once)', () => {
      expect(stopRecordingTypes(['AUDIO', null, 'video', 'audio'])).to.deep.equal(['audio', 'video']);
      expect(stopRecordingTypes(['x'])).to.deep.equal([]);
    });

    it('names files like record.c', () => {
      const rnd = (): number => 3735928559;
      expect(resolveRecordingPath('/rec', 'name')).to.deep.equal({
        dir: '/rec',
        fileName: 'name.mjr',
        path: '/rec/name.mjr',
        finalPath: '/rec/name.mjr',
        warning: undefined,
      });
      expect(resolveRecordingPath(null, '/a/b/name').path).to.equal('/a/b/name.mjr');
      expect(resolveRecordingPath(undefined, 'name').path).to.equal('./name.mjr');
      expect(resolveRecordingPath('/rec', null, { randomU32: rnd }).path).to.equal('janus-recording-3735928559.mjr');
      expect(resolveRecordingPath(null, null, { randomU32: rnd }).dir).to.equal(null);
      const both = resolveRecordingPath('/rec', 'sub/name');
      expect(both.path).to.equal('/rec/sub/name.mjr');
      expect(both.warning).to.equal('Unsupported combination of dir and filename /rec sub/name');
      const tmpExt = resolveRecordingPath('/rec', 'name', { tempExtension: 'tmp' });
      expect([tmpExt.path, tmpExt.finalPath]).to.deep.equal(['/rec/name.mjr.tmp', '/rec/name.mjr']);
    });
  });

  describe('recorder: .mjr encoding', () => {
    it('formats the info header exactly like jansson in Janus', () => {
      expect(formatMjrInfo({ medium: 'video', codec: 'vp9', fmtp: 'profile-id=2', createdUs: 10, firstFrameUs: 20, encrypted: true })).to.equal(
        '{"t": "v", "c": "vp9", "f": "profile-id=2", "s": 10, "u": 20, "e": true}',
      );
      const info = encodeMjrInfo({ medium: 'audio', codec: 'opus', createdUs: 1, firstFrameUs: 2 });
      expect(info.toString('latin1')).to.equal('\u0000\u0027{"t": "a", "c": "opus", "s": 1, "u": 2}');
    });

    it('encodes RTP and data frames', () => {
      expect(encodeMjrFrame(0x01020304, hex('aabb')).toString('hex')).to.equal('4d454554' + '01020304' + '0002' + 'aabb');
      expect(encodeMjrFrame(5, Buffer.from('hi'), 0x000a0b0c0d0e0f10).toString('hex')).to.equal(
        '4d454554' + '00000005' + '000a' + '000a0b0c0d0e0f10' + '6869',
      );
      expect(() => encodeMjrFrame(0, Buffer.alloc(0xfff8), 1)).to.throw(RangeError);
    });
  });

  describe('recorder: files', () => {
    it('writes only MJR00002 until the first frame, creating the folder', async () => {
      const dir = path.join(tmp, 'new', 'deeper');
      const rec = openAt({ codec: 'opus', folder: dir, filename: 'empty' });
      expect(rec.path).to.equal(`${dir}/empty.mjr`);
      expect(fs.readFileSync(rec.path).toString('latin1')).to.equal('MJR00002');
      await rec.close();
      await rec.close(); // idempotent
      expect(fs.readFileSync(rec.path).toString('latin1')).to.equal('MJR00002');
      expect(rec.saveRtp(buildRtpPacket({ payloadType: 111, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: hex('f8fffe') }))).to.equal(false);
    });

    it('refuses bad codecs, non-directories, wrong media and non-RTP', async () => {
      expect(() => openAt({ codec: 'theora', folder: tmp, filename: 'x' })).to.throw(RecorderError, "Unsupported codec 'theora'");
      const file = path.join(tmp, 'plain-file');
      fs.writeFileSync(file, '');
      expect(() => openAt({ codec: 'vp8', folder: file, filename: 'x' })).to.throw(RecorderError, 'Not a directory');
      const audio = openAt({ codec: 'pcmu', folder: tmp, filename: 'wrong-media' });
      expect(audio.saveData('text')).to.equal(false);
      expect(audio.saveRtp(hex('00112233'))).to.equal(false);
      expect(audio.saveRtp(hex('40000000000000000000000000'))).to.equal(false); // version 1
      await audio.close();
      const data = openAt({ codec: 'binary', folder: tmp, filename: 'wrong-media-data' });
      expect(data.saveRtp(buildRtpPacket({ payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: hex('ff') }))).to.equal(false);
      expect(data.saveData(new Uint8Array(0))).to.equal(false);
      expect(data.saveData(Buffer.alloc(0xfff8))).to.equal(false); // length field would overflow
      await data.close();
    });

    it('renames a temporary extension away on close', async () => {
      const rec = openAt({ codec: 'text', folder: tmp, filename: 'tmpext', tempExtension: 'part' });
      expect(rec.path).to.equal(`${tmp}/tmpext.mjr.part`);
      expect(fs.existsSync(rec.path)).to.equal(true);
      rec.saveData('x');
      await rec.close();
      expect(fs.existsSync(rec.path)).to.equal(false);
      expect(fs.readFileSync(rec.finalPath).subarray(0, 8).toString()).to.equal('MJR00002');
    });

    it('opens all requested recorders or none', async () => {
      const ok = openRecorders([
        { type: 'audio', codec: 'opus', folder: tmp, filename: 'all-a' },
        { type: 'video', codec: 'vp8', folder: tmp, filename: 'all-v' },
      ]);
      expect([...ok.keys()]).to.deep.equal(['audio', 'video']);
      await Promise.all([...ok.values()].map((r) => r.close()));
      const blocker = path.join(tmp, 'blocker');
      fs.writeFileSync(blocker, '');
      expect(() =>
        openRecorders([
          { type: 'audio', codec: 'opus', folder: tmp, filename: 'none-a' },
          { type: 'video', codec: 'vp8', folder: blocker, filename: 'none-v' },
        ]),
      ).to.throw(RecorderError);
    });

    it('keeps frame order across many asynchronous writes without touching the caller buffers', async () => {
      const clock = new FakeClock();
      const rec = openAt({ codec: 'g722', folder: tmp, filename: 'order', clock });
      const n = 2000;
      const sent: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const p = buildRtpPacket({ payloadType: 9, sequenceNumber: (60000 + i) & 0xffff, timestamp: 160 * i, ssrc: 7, payload: Buffer.from([i & 0xff, i >> 8]) });
        sent.push(Buffer.from(p));
        expect(rec.saveRtp(p)).to.equal(true);
        expect(p.equals(sent[i])).to.equal(true);
        clock.advance(20_000);
      }
      await rec.close();
      const file = fs.readFileSync(rec.path);
      const jsonLen = file.readUInt16BE(8);
      let off = 10 + jsonLen;
      for (let i = 0; i < n; i++) {
        expect(file.toString('latin1', off, off + 4)).to.equal('MEET');
        expect(file.readUInt32BE(off + 4)).to.equal(20 * i);
        const len = file.readUInt16BE(off + 8);
        const pkt = file.subarray(off + 10, off + 10 + len);
        expect(pkt.readUInt16BE(2)).to.equal((i + 1) & 0xffff); // renormalised: 1, 2, ...
        expect(pkt.readUInt32BE(4)).to.equal(160 * i);
        expect(pkt.subarray(12).equals(Buffer.from([i & 0xff, i >> 8]))).to.equal(true);
        off += 10 + len;
      }
      expect(off).to.equal(file.length);
      expect(rec.stats).to.deep.equal({ framesQueued: n, framesDropped: 0, bytesWritten: file.length - 8 });
    });

    it('drops frames beyond the queue bound instead of growing', async () => {
      const clock = new FakeClock();
      const header = 2 + formatMjrInfo({ medium: 'data', codec: 'text', createdUs: clock.real, firstFrameUs: clock.real }).length;
      const frame = 10 + 8 + 50;
      const rec = openAt({ codec: 'text', folder: tmp, filename: 'bounded', clock, maxQueuedBytes: header + 2 * frame });
      const results: boolean[] = [];
      for (let i = 0; i < 10; i++) results.push(rec.saveData('x'.repeat(50)));
      // the info header and two frames fit exactly; the rest are dropped
      expect(results.filter((r) => r).length).to.equal(2);
      expect(rec.stats.framesDropped).to.equal(8);
      await rec.close();
    });
  });

  describe('recorder: real janus-pp-rec converts our recordings', function () {
    before(function () {
      if (!fs.existsSync(PP_REC)) {
        // eslint-disable-next-line no-console
        console.log(`    (skipped: ${PP_REC} not found; install Debian's janus-tools)`);
        this.skip();
      }
    });

    it('opus: exact file, then .opus (Ogg) holding every frame, across a seq wrap', async () => {
      const clock = new FakeClock();
      const rec = openAt({ codec: 'opus', folder: tmp, filename: 'opus-rec', clock });
      const created = clock.real;
      const wire = OPUS_FRAMES.map((payload, i) =>
        buildRtpPacket({ payloadType: 111, marker: i === 0, sequenceNumber: 65534 + i, timestamp: 4_294_966_000 + 960 * i, ssrc: 0x1111, payload }),
      );
      clock.advance(1234);
      const firstReal = clock.real;
      for (const p of wire) {
        expect(rec.saveRtp(p)).to.equal(true);
        clock.advance(20_000);
      }
      await rec.close();
      // Renormalised by the recorder's switching context: seq 1.., ts 0.. (record.c)
      const expectedPackets = OPUS_FRAMES.map((payload, i) =>
        buildRtpPacket({ payloadType: 111, marker: i === 0, sequenceNumber: i + 1, timestamp: 960 * i, ssrc: 0x1111, payload }),
      );
      const json = `{"t": "a", "c": "opus", "s": ${created}, "u": ${firstReal}}`;
      const file = fs.readFileSync(rec.path);
      expect(file.toString('hex')).to.equal(expectedMjr(json, expectedPackets.map((body, i) => ({ ms: 20 * i, body }))).toString('hex'));

      const info = runPpRec(['-j', rec.path]);
      expect(info.status).to.equal(0);
      expect(info.out.trim()).to.equal(json);

      const target = path.join(tmp, 'opus-rec.opus');
      const conv = runPpRec([rec.path, target]);
      expect(conv.status, conv.out).to.equal(0);
      expect(conv.out).to.include('This is an audio recording');
      expect(conv.out).to.include('Counted 5 RTP packets');
      expect(conv.out).to.include('Counted 5 frame packets');
      const ogg = fs.readFileSync(target);
      expect(ogg.subarray(0, 4).toString('latin1')).to.equal('OggS');
      expect(ogg.includes(Buffer.from('OpusHead'))).to.equal(true);
      for (const f of OPUS_FRAMES) expect(ogg.includes(f)).to.equal(true);
    });

    it('re-bases seq/ts across an SSRC switch, keeping the SSRC as Janus does', async () => {
      const clock = new FakeClock();
      const rec = openAt({ codec: 'opus', folder: tmp, filename: 'opus-switch', clock });
      const created = clock.real;
      const wire = OPUS_FRAMES.map((payload, i) =>
        i < 3
          ? buildRtpPacket({ payloadType: 111, sequenceNumber: 100 + i, timestamp: 4_000_000_000 + 960 * i, ssrc: 0x1111, payload })
          : buildRtpPacket({ payloadType: 111, sequenceNumber: 500 + i, timestamp: 77 + 960 * i, ssrc: 0x2222, payload }),
      );
      for (const p of wire) {
        rec.saveRtp(p);
        clock.advance(20_000); // 20 ms at 48 kHz = 960: the switch is seamless
      }
      await rec.close();
      const expectedPackets = OPUS_FRAMES.map((payload, i) =>
        buildRtpPacket({ payloadType: 111, sequenceNumber: i + 1, timestamp: 960 * i, ssrc: i < 3 ? 0x1111 : 0x2222, payload }),
      );
      const json = `{"t": "a", "c": "opus", "s": ${created}, "u": ${created}}`;
      expect(fs.readFileSync(rec.path).toString('hex')).to.equal(
        expectedMjr(json, expectedPackets.map((body, i) => ({ ms: 20 * i, body }))).toString('hex'),
      );
      // janus-pp-rec keeps the first SSRC only, as it does for Janus's own files.
      const conv = runPpRec([rec.path, path.join(tmp, 'opus-switch.opus')]);
      expect(conv.status, conv.out).to.equal(0);
      expect(conv.out).to.include('Counted 5 RTP packets');
      expect(conv.out).to.include('Dropping packet with unexpected SSRC: 8738 != 4369');
    });

    it('vp8: .webm with the right size, first keyframe and every frame', async () => {
      const clock = new FakeClock();
      const rec = openAt({ codec: 'vp8', folder: tmp, filename: 'vp8-rec', clock });
      // One packet per frame: VP8 payload descriptor 0x10 (S=1, partition 0) + the frame.
      VP8_FRAMES.forEach((frame, i) => {
        const payload = Buffer.concat([Buffer.from([0x10]), frame]);
        rec.saveRtp(buildRtpPacket({ payloadType: 96, marker: true, sequenceNumber: 9000 + i, timestamp: 123456 + 3000 * i, ssrc: 0xabcdef01, payload }));
        clock.advance(33_333);
      });
      await rec.close();
      const expected = VP8_FRAMES.map((frame, i) => ({
        ms: [0, 33, 66][i],
        body: buildRtpPacket({ payloadType: 96, marker: true, sequenceNumber: i + 1, timestamp: 3000 * i, ssrc: 0xabcdef01, payload: Buffer.concat([Buffer.from([0x10]), frame]) }),
      }));
      expect(fs.readFileSync(rec.path).toString('hex')).to.equal(
        expectedMjr(`{"t": "v", "c": "vp8", "s": ${clock.real - 3 * 33_333}, "u": ${clock.real - 3 * 33_333}}`, expected).toString('hex'),
      );
      const target = path.join(tmp, 'vp8-rec.webm');
      const conv = runPpRec([rec.path, target]);
      expect(conv.status, conv.out).to.equal(0);
      expect(conv.out).to.include('This is a video recording');
      expect(conv.out).to.include('Counted 3 RTP packets');
      expect(conv.out).to.include('64x48');
      expect(conv.out).to.include('First keyframe: 0');
      const webm = fs.readFileSync(target);
      expect(webm.subarray(0, 4).toString('hex')).to.equal('1a45dfa3'); // EBML
      expect(webm.includes(Buffer.from('webm'))).to.equal(true);
      for (const f of VP8_FRAMES) expect(webm.includes(f)).to.equal(true);
    });

    it('text data: exact file, then .srt with the messages at their times', async () => {
      const clock = new FakeClock();
      const rec = openAt({ codec: 'text', folder: tmp, filename: 'text-rec', clock });
      const created = clock.real;
      clock.advance(1000);
      const t0 = clock.real;
      expect(rec.saveData('hello')).to.equal(true);
      clock.advance(1_500_000);
      expect(rec.saveData(Buffer.from('wörld', 'utf8'))).to.equal(true);
      await rec.close();
      expect(fs.readFileSync(rec.path).toString('hex')).to.equal(
        expectedMjr(`{"t": "d", "c": "text", "s": ${created}, "u": ${t0}}`, [
          { ms: 0, body: Buffer.from('hello'), dataUs: BigInt(t0) },
          { ms: 1500, body: Buffer.from('wörld'), dataUs: BigInt(t0 + 1_500_000) },
        ]).toString('hex'),
      );
      const target = path.join(tmp, 'text-rec.srt');
      const conv = runPpRec([rec.path, target]);
      expect(conv.status, conv.out).to.equal(0);
      expect(conv.out).to.include('This is a text data recording');
      expect(conv.out).to.include('Counted 2 frame packets');
      expect(fs.readFileSync(target, 'utf8')).to.equal(SRT_EXPECTED);
    });

    it('pcmu: .wav with one 16-bit sample per G.711 byte', async () => {
      const clock = new FakeClock();
      const rec = openAt({ codec: 'pcmu', folder: tmp, filename: 'pcmu-rec', clock });
      const s = clock.real;
      for (let i = 0; i < 10; i++) {
        rec.saveRtp(buildRtpPacket({ payloadType: 0, sequenceNumber: 40 + i, timestamp: 160 * i, ssrc: 9, payload: Buffer.alloc(160, 0xff) }));
        clock.advance(20_000);
      }
      await rec.close();
      const frames = Array.from({ length: 10 }, (_, i) => ({
        ms: 20 * i,
        body: buildRtpPacket({ payloadType: 0, sequenceNumber: i + 1, timestamp: 160 * i, ssrc: 9, payload: Buffer.alloc(160, 0xff) }),
      }));
      expect(fs.readFileSync(rec.path).toString('hex')).to.equal(expectedMjr(`{"t": "a", "c": "pcmu", "s": ${s}, "u": ${s}}`, frames).toString('hex'));
      const target = path.join(tmp, 'pcmu-rec.wav');
      const conv = runPpRec([rec.path, target]);
      expect(conv.status, conv.out).to.equal(0);
      const wav = fs.readFileSync(target);
      expect(wav.toString('latin1', 0, 4)).to.equal('RIFF');
      expect(wav.toString('latin1', 8, 12)).to.equal('WAVE');
      expect(wav.length).to.equal(44 + 10 * 160 * 2); // 8 kHz mono, 16-bit
      // mu-law 0xff is silence: every decoded sample is 0
      expect(wav.subarray(44).every((b) => b === 0)).to.equal(true);
    });

    it('binary data: the messages come back byte for byte', async () => {
      const clock = new FakeClock();
      const rec = openAt({ codec: 'binary', folder: tmp, filename: 'binary-rec', clock });
      const s = clock.real;
      rec.saveData(hex('000102'));
      clock.advance(2_000);
      rec.saveData(hex('fffe'));
      await rec.close();
      expect(fs.readFileSync(rec.path).toString('hex')).to.equal(
        expectedMjr(`{"t": "d", "c": "binary", "s": ${s}, "u": ${s}}`, [
          { ms: 0, body: hex('000102'), dataUs: BigInt(s) },
          { ms: 2, body: hex('fffe'), dataUs: BigInt(s + 2_000) },
        ]).toString('hex'),
      );
      const target = path.join(tmp, 'binary-rec.bin');
      const conv = runPpRec([rec.path, target]);
      expect(conv.status, conv.out).to.equal(0);
      expect(conv.out).to.include('Counted 2 frame packets');
      expect(fs.readFileSync(target).toString('hex')).to.equal('000102fffe');
    });

    it('fails conversion when the layout is broken (the check can fail)', async () => {
      const rec = openAt({ codec: 'opus', folder: tmp, filename: 'broken' });
      rec.saveRtp(buildRtpPacket({ payloadType: 111, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: OPUS_FRAMES[0] }));
      await rec.close();
      const bytes = fs.readFileSync(rec.path);
      bytes.write('XJR', 0, 'latin1'); // not an .mjr prefix
      fs.writeFileSync(rec.path, bytes);
      const conv = runPpRec([rec.path, path.join(tmp, 'broken.opus')]);
      expect(conv.status).to.not.equal(0);
    });
  });
});
