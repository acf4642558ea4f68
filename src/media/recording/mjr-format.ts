// The Janus `.mjr` file format (docs/contract.md §3.3), byte-compatible with Janus 1.1.2's
// record.c so that janus-pp-rec converts our files:
//
//   "MJR00002"                                   at creation
//   u16be length + JSON info {t, c, f?, s, u, e?} before the first frame
//   per frame: "MEET" + u32be ms since the first frame + u16be length + bytes
//     RTP:  the packet with seq/ts renormalised by the recorder's own switching context
//     data: u64be wall-clock µs + the message (the length counts those 8 bytes)
//
// Pure encoders: nothing here touches the disk (writer.ts does).

import type { Medium } from '../../common/codecs';

export const MJR_HEADER = 'MJR00002';
export const MJR_FRAME_HEADER = 'MEET';

export interface MjrInfo {
  medium: Medium;
  codec: string;
  fmtp?: string;
  /** Recorder creation, wall clock µs. */
  createdUs: number;
  /** First frame, wall clock µs. */
  firstFrameUs: number;
  encrypted?: boolean;
}

/**
 * The info header's JSON text, formatted like jansson's json_dumps(JSON_PRESERVE_ORDER) that
 * Janus uses: keys in Janus's order, ", " and ": " separators, no newline.
 */
export function formatMjrInfo(info: MjrInfo): string {
  const entries: [string, string | number | boolean][] = [
    ['t', info.medium === 'audio' ? 'a' : info.medium === 'video' ? 'v' : 'd'],
    ['c', info.codec],
  ];
  if (info.fmtp !== undefined) entries.push(['f', info.fmtp]);
  entries.push(['s', Math.trunc(info.createdUs)], ['u', Math.trunc(info.firstFrameUs)]);
  if (info.encrypted) entries.push(['e', true]);
  return '{' + entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ') + '}';
}

/** u16be length + the info JSON, written before the first frame. */
export function encodeMjrInfo(info: MjrInfo): Buffer {
  const text = Buffer.from(formatMjrInfo(info), 'utf8');
  if (text.length > 0xffff) throw new RangeError('mjr info header too long');
  const out = Buffer.alloc(2 + text.length);
  out.writeUInt16BE(text.length, 0);
  text.copy(out, 2);
  return out;
}

/**
 * One frame: "MEET" + u32be ms + u16be length + body. With `dataTimestampUs` (data frames) the
 * body is prefixed by that u64be wall-clock timestamp and the length includes it.
 */
export function encodeMjrFrame(relativeMs: number, body: Uint8Array, dataTimestampUs?: number): Buffer {
  const extra = dataTimestampUs === undefined ? 0 : 8;
  const length = body.length + extra;
  if (length > 0xffff) throw new RangeError(`mjr frame too long (${length} bytes)`);
  const out = Buffer.alloc(10 + length);
  out.write(MJR_FRAME_HEADER, 0, 'latin1');
  out.writeUInt32BE(relativeMs >>> 0, 4);
  out.writeUInt16BE(length, 8);
  if (dataTimestampUs !== undefined) out.writeBigUInt64BE(BigInt(Math.trunc(dataTimestampUs)), 10);
  out.set(body, 10 + extra);
  return out;
}
