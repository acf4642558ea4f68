// Janus `.mjr` recordings (docs/contract.md §1 startRecording/stopRecording, §3.3 file format),
// byte-compatible with Janus 1.1.2's record.c so that janus-pp-rec converts our files:
//
//   "MJR00002"                                   at creation
//   u16be length + JSON info {t, c, f?, s, u, e?} before the first frame
//   per frame: "MEET" + u32be ms since the first frame + u16be length + bytes
//     RTP:  the packet with seq/ts renormalised by the recorder's own switching context
//     data: u64be wall-clock µs + the message (the length counts those 8 bytes)
//
// Opening is synchronous (startRecording must answer 0/-1 at once); frames are queued and
// written asynchronously, in order, one write at a time; close() flushes.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomInt } from 'node:crypto';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import type { MediumKind, RecordingRequest } from '../plugin/media';
import { type RecordingPath, type RecordingRoots, resolveRecordingPath } from '../common/recording-roots';
import { monotonicUs, RtpSwitchingContext } from './rtp/switching';

export const MJR_HEADER = 'MJR00002';
export const MJR_FRAME_HEADER = 'MEET';
/** Separator between codec and fmtp in startRecording's codec argument. */
export const FMTP_SEPARATOR = '/fmtp=';

/** Codecs Janus 1.1.2 accepts, by the medium they imply (docs/contract.md §1). */
export const RECORDING_CODECS: Readonly<Record<MediumKind, readonly string[]>> = {
  video: ['vp8', 'vp9', 'h264', 'av1', 'h265'],
  audio: ['opus', 'multiopus', 'g711', 'pcmu', 'pcma', 'g722', 'l16-48', 'l16'],
  data: ['text', 'binary'],
};

/** The medium a codec records (case-insensitive), or null for a codec Janus refuses. */
export function recordingMediumOfCodec(codec: string): MediumKind | null {
  const c = codec.toLowerCase();
  for (const medium of ['video', 'audio', 'data'] as const) {
    if (RECORDING_CODECS[medium].includes(c)) return medium;
  }
  return null;
}

/** Splits "vp9/fmtp=profile-id=2" into codec and fmtp at the first separator (g_strsplit, 2). */
export function splitCodecFmtp(codec: string): { codec: string; fmtp?: string } {
  const at = codec.indexOf(FMTP_SEPARATOR);
  if (at < 0) return { codec };
  return { codec: codec.slice(0, at), fmtp: codec.slice(at + FMTP_SEPARATOR.length) };
}

// ---------------------------------------------------------------------------------------------
// Pure encoders

export interface MjrInfo {
  medium: MediumKind;
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

// ---------------------------------------------------------------------------------------------
// File naming: recording-roots.ts (record.c's naming, confined to the recording roots)

export { type RecordingPath, resolveRecordingPath } from '../common/recording-roots';

// ---------------------------------------------------------------------------------------------
// Script arguments -> RecordingRequest[]

export type RecordingArgsResult =
  | { ok: true; requests: RecordingRequest[]; warnings: string[] }
  | { ok: false; error: string; warnings: string[] };

/** Lua's lua_tostring: strings (or byte strings) as is, numbers formatted, anything else nil. */
function luaString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  return null;
}

/**
 * Validates startRecording's arguments *after the session id*: 1 to 3 groups of
 * (type, codec, folder, filename) (docs/contract.md §1). Mirrors janus_lua.c:
 * - a group whose type or codec is nil is skipped;
 * - an unsupported codec fails the whole call;
 * - a type already being recorded (in `alreadyRecording` or earlier in this call) is skipped;
 * - a type other than audio/video/data still counts as a recording in Janus (which then leaks
 *   it); here it produces no request, only a warning, and the call still succeeds;
 * - no recording at all fails the call.
 * Unlike Janus, nothing is created before every group is validated, so a failing call leaves
 * no stray files behind. Codecs come back lower-case, without `/fmtp=`.
 */
export function parseRecordingArgs(args: readonly unknown[], alreadyRecording: ReadonlySet<MediumKind> = new Set()): RecordingArgsResult {
  const warnings: string[] = [];
  if (args.length !== 4 && args.length !== 8 && args.length !== 12) {
    return { ok: false, error: `Wrong number of arguments: ${args.length + 1} (expected 5, 9 or 13)`, warnings };
  }
  const requests: RecordingRequest[] = [];
  const taken = new Set<MediumKind>(alreadyRecording);
  let counted = 0;
  for (let i = 0; i < args.length; i += 4) {
    const type = luaString(args[i]);
    const codecArg = luaString(args[i + 1]);
    const folder = luaString(args[i + 2]);
    const filename = luaString(args[i + 3]);
    if (type == null || codecArg == null) continue;
    const split = splitCodecFmtp(codecArg);
    if (recordingMediumOfCodec(split.codec) == null) {
      return { ok: false, error: `Unsupported codec '${split.codec}'`, warnings };
    }
    const slot = type.toLowerCase();
    if (slot !== 'audio' && slot !== 'video' && slot !== 'data') {
      warnings.push(`Unknown recording type '${type}', ignored`);
      counted++;
      continue;
    }
    if (taken.has(slot)) {
      warnings.push(`Duplicate ${slot} recording, skipping`);
      continue;
    }
    taken.add(slot);
    const req: RecordingRequest = { type: slot, codec: split.codec.toLowerCase() };
    if (split.fmtp !== undefined) req.fmtp = split.fmtp;
    if (folder != null) req.folder = folder;
    if (filename != null) req.filename = filename;
    requests.push(req);
    counted++;
  }
  if (counted === 0) return { ok: false, error: 'No recording created', warnings };
  return { ok: true, requests, warnings };
}

/** stopRecording's type arguments: the known slots, nil and unknown names skipped. */
export function parseStopRecordingArgs(args: readonly unknown[]): MediumKind[] | null {
  if (args.length < 1 || args.length > 3) return null;
  const out: MediumKind[] = [];
  for (const a of args) {
    const t = luaString(a)?.toLowerCase();
    if ((t === 'audio' || t === 'video' || t === 'data') && !out.includes(t)) out.push(t);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The recorder

export interface RecorderClock {
  /** Wall clock, µs since the epoch (g_get_real_time). */
  realTimeUs(): number;
  /** Monotonic µs (g_get_monotonic_time). */
  monotonicUs(): number;
}

export const systemClock: RecorderClock = {
  realTimeUs: () => Math.floor((performance.timeOrigin + performance.now()) * 1000),
  monotonicUs,
};

export interface RecorderOptions {
  /** Codec, case-insensitive, without `/fmtp=` (see splitCodecFmtp). */
  codec: string;
  fmtp?: string;
  folder?: string | null;
  filename?: string | null;
  /** Marks the recording as end-to-end encrypted ("e": true). */
  encrypted?: boolean;
  /** janus.jcfg `recordings_tmp_ext`: write `name.mjr.<ext>`, rename on close. */
  tempExtension?: string;
  logger?: Logger;
  clock?: RecorderClock;
  /** Frames are dropped (and counted) beyond this many queued bytes. Default 32 MiB. */
  maxQueuedBytes?: number;
  randomU32?: () => number;
  /** Recording roots the file must lie in (relative names resolve against the first). */
  roots?: RecordingRoots;
}

export class RecorderError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'RecorderError';
  }
}

export interface RecorderStats {
  framesQueued: number;
  framesDropped: number;
  bytesWritten: number;
}

export class Recorder {
  readonly medium: MediumKind;
  readonly codec: string;
  readonly fmtp?: string;
  readonly encrypted: boolean;
  /** Path written while recording. */
  readonly path: string;
  /** Path once closed. */
  readonly finalPath: string;

  private readonly log: Logger;
  private readonly clock: RecorderClock;
  private readonly maxQueued: number;
  private readonly context = new RtpSwitchingContext();
  private readonly createdUs: number;
  private startedMono: number | null = null;
  private fd: number | null;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  private idleWaiters: (() => void)[] = [];
  private closing: Promise<void> | null = null;
  private failed = false;
  private readonly counters: RecorderStats = { framesQueued: 0, framesDropped: 0, bytesWritten: 0 };

  private constructor(options: RecorderOptions, medium: MediumKind, where: RecordingPath, fd: number) {
    this.medium = medium;
    this.codec = options.codec;
    this.fmtp = options.fmtp;
    this.encrypted = options.encrypted === true;
    this.path = where.path;
    this.finalPath = where.finalPath;
    this.log = (options.logger ?? silentLogger()).child({ component: 'recorder', file: where.finalPath });
    this.clock = options.clock ?? systemClock;
    this.maxQueued = options.maxQueuedBytes ?? 32 * 1024 * 1024;
    this.fd = fd;
    this.createdUs = this.clock.realTimeUs();
  }

  /**
   * Creates the file (and its folder) and writes "MJR00002", synchronously, as Janus does when
   * the script calls startRecording. Throws RecorderError on an unsupported codec or I/O error.
   */
  static open(options: RecorderOptions): Recorder {
    const medium = recordingMediumOfCodec(options.codec);
    if (medium == null) throw new RecorderError(`Unsupported codec '${options.codec}'`);
    const resolved = resolveRecordingPath(options.folder, options.filename, {
      tempExtension: options.tempExtension,
      randomU32: options.randomU32,
    });
    const where = options.roots ? options.roots.confine(resolved) : resolved;
    const log = options.logger ?? silentLogger();
    if (where.warning) log.warn(where.warning);
    let fd: number;
    try {
      if (where.dir != null) {
        const st = fs.statSync(where.dir, { throwIfNoEntry: false });
        if (st === undefined) fs.mkdirSync(where.dir, { recursive: true, mode: 0o755 });
        else if (!st.isDirectory()) throw new RecorderError(`Not a directory? ${where.dir}`);
      }
      // O_NOFOLLOW: a symlink planted as the file name is never followed.
      const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
      fd = fs.openSync(where.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644);
    } catch (err) {
      if (err instanceof RecorderError) throw err;
      throw new RecorderError(`Cannot create recording ${where.path}: ${(err as Error).message}`, err);
    }
    try {
      fs.writeSync(fd, Buffer.from(MJR_HEADER, 'latin1'));
    } catch (err) {
      fs.closeSync(fd);
      throw new RecorderError(`Cannot write .mjr header to ${where.path}: ${(err as Error).message}`, err);
    }
    return new Recorder(options, medium, where, fd);
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  get stats(): Readonly<RecorderStats> {
    return { ...this.counters };
  }

  /**
   * Queues an RTP packet (audio or video recorders). The caller's buffer is not modified.
   * Returns false when the frame was refused (closed, wrong medium, not RTP, too long, queue
   * full).
   */
  saveRtp(packet: Uint8Array): boolean {
    if (this.medium === 'data') return false;
    if (packet.length < 12 || packet[0] >> 6 !== 2 || packet.length > 0xffff) return false;
    if (!this.accepting()) return false;
    const now = this.clock.monotonicUs();
    const copy = Buffer.from(packet);
    this.context.rewritePacket(copy, this.medium === 'video', now);
    return this.push(copy, now, undefined);
  }

  /** Queues a data channel message (data recorders); text is stored as UTF-8. */
  saveData(message: string | Uint8Array): boolean {
    if (this.medium !== 'data') return false;
    const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    if (bytes.length < 1 || bytes.length + 8 > 0xffff) return false;
    if (!this.accepting()) return false;
    return this.push(bytes, this.clock.monotonicUs(), this.clock.realTimeUs());
  }

  /**
   * Stops accepting frames, writes everything queued, closes the file and (with a temporary
   * extension) renames it. Idempotent; resolves even after a write error (which is logged).
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      await this.idle();
      const fd = this.fd;
      this.fd = null;
      if (fd !== null) {
        await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
      }
      if (this.path !== this.finalPath) {
        try {
          await fs.promises.rename(this.path, this.finalPath);
        } catch (err) {
          this.log.error('Error renaming recording', { from: this.path, error: err as Error });
        }
      }
      this.log.info('Recording closed', { ...this.counters });
    })();
    return this.closing;
  }

  private accepting(): boolean {
    return this.closing === null && !this.failed && this.fd !== null;
  }

  private push(body: Uint8Array, now: number, dataTimestampUs: number | undefined): boolean {
    const parts: Buffer[] = [];
    if (this.startedMono === null) {
      parts.push(
        encodeMjrInfo({
          medium: this.medium,
          codec: this.codec,
          fmtp: this.fmtp,
          createdUs: this.createdUs,
          firstFrameUs: this.clock.realTimeUs(),
          encrypted: this.encrypted,
        }),
      );
      this.startedMono = now;
    }
    const ms = now > this.startedMono ? Math.floor((now - this.startedMono) / 1000) : 0;
    parts.push(encodeMjrFrame(ms, body, dataTimestampUs));
    const chunk = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (this.queuedBytes + chunk.length > this.maxQueued && parts.length === 1) {
      // Disk can't keep up: drop this frame rather than grow without bound. (The info header
      // is never dropped: without it the file is unreadable.)
      if (this.counters.framesDropped++ === 0) this.log.warn('Recording queue full, dropping frames');
      return false;
    }
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    this.counters.framesQueued++;
    if (!this.writing) {
      this.writing = true;
      setImmediate(() => this.drain());
    }
    return true;
  }

  /** Writes the queue in order, one fs.write at a time. */
  private drain(): void {
    if (this.queue.length === 0 || this.fd === null) {
      this.writing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    const chunk = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue);
    this.queue = [];
    this.writeAll(chunk, 0);
  }

  private writeAll(chunk: Buffer, offset: number): void {
    const fd = this.fd;
    if (fd === null) return this.drain();
    fs.write(fd, chunk, offset, chunk.length - offset, null, (err, written) => {
      if (err) {
        this.failed = true;
        this.log.error('Error saving frame', { error: err });
        this.queuedBytes = 0;
        this.queue = [];
        return this.drain();
      }
      this.counters.bytesWritten += written;
      if (offset + written < chunk.length) return this.writeAll(chunk, offset + written);
      this.queuedBytes -= chunk.length;
      this.drain();
    });
  }

  private idle(): Promise<void> {
    if (!this.writing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/**
 * Opens one recorder per request, all or nothing (docs/contract.md §1: if any recorder fails to
 * open, every recorder of the call is dropped). Throws RecorderError after closing the others.
 */
export function openRecorders(
  requests: readonly RecordingRequest[],
  common: Omit<RecorderOptions, 'codec' | 'fmtp' | 'folder' | 'filename'> = {},
): Map<MediumKind, Recorder> {
  // Every path is checked before any file or folder is created: all or nothing.
  if (common.roots) {
    for (const r of requests) {
      common.roots.confine(resolveRecordingPath(r.folder, r.filename, { tempExtension: common.tempExtension, randomU32: () => 0 }));
    }
  }
  const opened = new Map<MediumKind, Recorder>();
  try {
    for (const r of requests) {
      if (opened.has(r.type)) continue;
      opened.set(r.type, Recorder.open({ ...common, codec: r.codec, fmtp: r.fmtp, folder: r.folder, filename: r.filename }));
    }
  } catch (err) {
    for (const rec of opened.values()) void rec.close();
    throw err;
  }
  return opened;
}
