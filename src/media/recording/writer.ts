// One `.mjr` recorder (docs/contract.md §1 startRecording/stopRecording): opening is
// synchronous (startRecording must answer 0/-1 at once); frames are encoded (mjr-format.ts),
// queued and written asynchronously, in order, one write at a time; close() flushes.

import * as fs from 'node:fs';
import { codecNamed, type Medium } from '../../common/codecs';
import type { Logger } from '../../log';
import { silentLogger } from '../../log';
import type { RecordingRequest } from '../../plugin/media';
import type { RecordingPath } from '../../common/recording-roots';
import { monotonicUs, RtpSwitchingContext } from '../rtp/switching';
import { encodeMjrFrame, encodeMjrInfo, MJR_HEADER } from './mjr-format';
import { placeRecording, type PlacementOptions } from './paths';
import { NamedError } from '../../common/named-error';

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
  /** Marks the recording as end-to-end encrypted ("e": true). */
  encrypted?: boolean;
  logger?: Logger;
  clock?: RecorderClock;
  /** Frames are dropped (and counted) beyond this many queued bytes. Default 32 MiB. */
  maxQueuedBytes?: number;
}

export class RecorderError extends NamedError {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

export interface RecorderStats {
  framesQueued: number;
  framesDropped: number;
  bytesWritten: number;
}

export class Recorder {
  readonly medium: Medium;
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

  private constructor(options: RecorderOptions, medium: Medium, where: RecordingPath, fd: number) {
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
   * Creates the file (and its folder) at `where` (placeRecording's choice) and writes
   * "MJR00002", synchronously, as Janus does when the script calls startRecording. Throws
   * RecorderError on an unsupported codec or I/O error.
   */
  static open(options: RecorderOptions, where: RecordingPath): Recorder {
    const medium = codecNamed(options.codec)?.medium;
    if (medium === undefined) throw new RecorderError(`Unsupported codec '${options.codec}'`);
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
  common: Omit<RecorderOptions, 'codec' | 'fmtp'> & PlacementOptions = {},
): Map<Medium, Recorder> {
  // Every path is placed (and confined) before any file or folder is created: all or nothing.
  const placed = requests.map((r) => placeRecording(r.folder, r.filename, common));
  const opened = new Map<Medium, Recorder>();
  try {
    requests.forEach((r, i) => {
      if (opened.has(r.type)) return;
      opened.set(r.type, Recorder.open({ ...common, codec: r.codec, fmtp: r.fmtp }, placed[i]));
    });
  } catch (err) {
    for (const rec of opened.values()) void rec.close();
    throw err;
  }
  return opened;
}
