// The protobuf codec of the host <-> script bridge (proto/bridge.proto), shared by the main
// thread and the worker. The .proto is loaded at runtime from the package folder, so no
// generated code is committed; the TypeScript shapes below mirror it by hand, and
// test/bridge-schema.test.ts fails when a message or field here and in the .proto disagree.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import * as protobuf from 'protobufjs';
import type { PluginInfo } from './plugin-info';

export enum Status {
  OK = 0,
  SCRIPT_ERROR = 1,
  LIMIT_EXCEEDED = 2,
  NOT_LOADED = 3,
  LOAD_FAILED = 4,
  NO_CALLBACK = 5,
}

export interface LoadTask {
  runtime: string;
  scriptPath: string;
  modulesPath?: string | null;
  config?: Uint8Array | null;
  instructionLimit: number;
  logLevel: number;
  eventsEnabled: boolean;
  memoryLimitBytes: number;
  maxResumeRounds: number;
  /** JavaScript runtime: wall-clock limit per callback, in ms. */
  timeLimitMs?: number;
  /** Folders startRecording may write in (the default first); empty = not checked in the worker. */
  recordingRoots?: string[];
  /** Lua: warm V8 up between tasks after the load (workers/lua/warm-up.ts). */
  warmUp?: boolean;
}

// Each callback's own arguments (the `callback` oneof of Call).
export type Empty = Record<string, never>;
export interface ResumeScheduler { resumes: number }
export interface HandleMessage { transaction: string; message: Uint8Array; jsep?: Uint8Array | null }
export interface HandleAdminMessage { message?: Uint8Array | null }
export interface IncomingPacket { video: boolean; packet: Uint8Array }
export interface IncomingData { payload: Uint8Array; label: string; protocol: string }
export interface SlowLink { uplink: boolean; video: boolean }
export interface Layer { value: number }
export interface TimerFired { functionName: string; argument?: Uint8Array | null }

/** The callbacks a Call can carry, each with its arguments. */
export interface CallArguments {
  destroy: Empty;
  resumeScheduler: ResumeScheduler;
  createSession: Empty;
  destroySession: Empty;
  querySession: Empty;
  handleMessage: HandleMessage;
  handleAdminMessage: HandleAdminMessage;
  setupMedia: Empty;
  hangupMedia: Empty;
  incomingRtp: IncomingPacket;
  incomingRtcp: IncomingPacket;
  incomingTextData: IncomingData;
  incomingBinaryData: IncomingData;
  dataReady: Empty;
  slowLink: SlowLink;
  substreamChanged: Layer;
  temporalLayerChanged: Layer;
  timer: TimerFired;
}

export type Callback = keyof CallArguments;

/** The Call message with every field (a decoded Call has exactly one callback set). */
export type CallMessage = { session?: number } & { [K in Callback]?: CallArguments[K] | null };

/** One Call as the host builds it: the session and exactly one callback with its arguments. */
export type CallTask = { session?: number } & { [K in Callback]: { [P in K]: CallArguments[K] } }[Callback];

// The most frequent callbacks first: callbackOf looks for the one set in this order.
const CALLBACKS: { readonly [K in Callback]: true } = {
  handleMessage: true, incomingRtp: true, incomingRtcp: true, incomingTextData: true, incomingBinaryData: true,
  resumeScheduler: true, timer: true, createSession: true, destroySession: true, setupMedia: true, hangupMedia: true,
  querySession: true, handleAdminMessage: true, dataReady: true, slowLink: true, substreamChanged: true,
  temporalLayerChanged: true, destroy: true,
};
const CALLBACK_NAMES = Object.keys(CALLBACKS) as Callback[];

/** Which callback a Call carries (undefined: none, e.g. from a newer host). */
export function callbackOf(call: CallMessage): Callback | undefined {
  for (const name of CALLBACK_NAMES) if (call[name] != null) return name;
  return undefined;
}

export interface Task {
  seq: number;
  load?: LoadTask | null;
  calls?: CallMessage[];
}

export interface Recording {
  type: string;
  codec: string;
  fmtp?: string | null;
  folder?: string | null;
  filename?: string | null;
}

// The host calls a script makes (the `call` oneof of HostCall).
export interface Log { level: number; text: Uint8Array }
export interface PushEvent { session: number; transaction?: string | null; event: Uint8Array; jsep?: Uint8Array | null }
export interface NotifyEvent { session: number; event: Uint8Array }
export interface ConfigureMedium { session: number; medium: string; incoming: boolean; enabled: boolean }
export interface Pair { sender: number; recipient: number }
export interface SessionValue { session: number; value: number }
export interface StartRecording { session: number; recordings: Recording[] }
export interface StopRecording { session: number; types: string[] }
export interface Relay { session: number; video: boolean; packet: Uint8Array }
export interface RelayData { session: number; binary: boolean; payload: Uint8Array; label: string; protocol: string }
export interface Timer { functionName: string; argument?: Uint8Array | null; delayMs: number }

export interface HostCall {
  log?: Log | null;
  pushEvent?: PushEvent | null;
  notifyEvent?: NotifyEvent | null;
  closePc?: number | null;
  endSession?: number | null;
  configureMedium?: ConfigureMedium | null;
  addRecipient?: Pair | null;
  removeRecipient?: Pair | null;
  setBitrate?: SessionValue | null;
  setPliFreq?: SessionValue | null;
  setSubstream?: SessionValue | null;
  setTemporalLayer?: SessionValue | null;
  sendPli?: number | null;
  startRecording?: StartRecording | null;
  stopRecording?: StopRecording | null;
  relayRtp?: Relay | null;
  relayRtcp?: Relay | null;
  relayData?: RelayData | null;
  timeCallback?: Timer | null;
  poke?: number | null;
}

/** Info in bridge.proto: the plugin's info as the script reports it. */
export type ScriptInfoMessage = PluginInfo;

export interface Result {
  status: Status;
  error?: string;
  calls?: HostCall[];
  followupCalls?: HostCall[];
  pendingPokes?: number;
  code?: number;
  text?: Uint8Array | null;
  json?: Uint8Array | null;
  info?: ScriptInfoMessage | null;
  hooks?: string[];
  memoryBytes?: number;
  overMemory?: boolean;
}

/** Finds proto/bridge.proto above this module (dist/src/common or src/common); bounded walk. */
function protoPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto', 'bridge.proto');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`bridge: proto/bridge.proto not found above ${__dirname}`);
}

/**
 * The one piscina task a script thread gets: the port its Tasks (bytes) come over and its
 * Replies (bytes) go back on, in order (src/script/pool.ts).
 */
export interface TaskPort {
  taskPort: MessagePort;
}

export interface Reply {
  instance: string;
  seq: number;
  results: Result[];
}

interface Codec {
  task: protobuf.Type;
  reply: protobuf.Type;
}

let codec: Codec | undefined;

function getCodec(): Codec {
  if (!codec) {
    const root = protobuf.loadSync(protoPath());
    codec = { task: root.lookupType('luasfu.bridge.Task'), reply: root.lookupType('luasfu.bridge.Reply') };
  }
  return codec;
}

// encode() takes plain objects whose fields already have the wire types (numbers for enums,
// Uint8Array for bytes): skipping fromObject() halves the cost per message.
// protobufjs's writers finish into views of a shared 8 KiB slab, and posting a view clones the
// whole slab; this one allocates each message's own buffer instead of copying a view into one
// (Reply of 7 results 0.92, Task of 7 messages 0.89 of slab + copy; interleaved, 60 blocks),
// and the port moves that buffer to the other thread (a transfer) rather than copying it.
class ExactWriter extends protobuf.Writer {
  static override alloc(size: number): Uint8Array {
    return new Uint8Array(size);
  }
}

export function encodeTask(task: Task): Uint8Array {
  return getCodec().task.encode(task as unknown as protobuf.Message, new ExactWriter()).finish();
}

export function decodeTask(bytes: Uint8Array): Task {
  return getCodec().task.decode(bytes) as unknown as Task;
}

export function encodeReply(reply: Reply): Uint8Array {
  return getCodec().reply.encode(reply as unknown as protobuf.Message, new ExactWriter()).finish();
}

export function decodeReply(bytes: Uint8Array): Reply {
  return getCodec().reply.decode(bytes) as unknown as Reply;
}
