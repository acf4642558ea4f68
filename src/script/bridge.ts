// The protobuf codec of the host <-> script bridge (proto/bridge.proto), shared by the main
// thread and the worker. The .proto is loaded at runtime from the package folder, so no
// generated code is committed; the TypeScript shapes below mirror it by hand.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as protobuf from 'protobufjs';
import type { PluginInfo } from '../plugin/plugin';

export const enum Callback {
  DESTROY = 1,
  RESUME_SCHEDULER = 2,
  CREATE_SESSION = 3,
  DESTROY_SESSION = 4,
  QUERY_SESSION = 5,
  HANDLE_MESSAGE = 6,
  HANDLE_ADMIN_MESSAGE = 7,
  SETUP_MEDIA = 8,
  HANGUP_MEDIA = 9,
  INCOMING_RTP = 10,
  INCOMING_RTCP = 11,
  INCOMING_TEXT_DATA = 12,
  INCOMING_BINARY_DATA = 13,
  DATA_READY = 14,
  SLOW_LINK = 15,
  SUBSTREAM_CHANGED = 16,
  TEMPORAL_LAYER_CHANGED = 17,
  TIMER = 18,
}

export const enum Status {
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
}

export interface CallTask {
  callback: Callback;
  session?: number;
  transaction?: string;
  message?: Uint8Array | null;
  jsep?: Uint8Array | null;
  flagA?: boolean;
  flagB?: boolean;
  number?: number;
  payload?: Uint8Array;
  label?: string;
  protocol?: string;
  functionName?: string;
  argument?: Uint8Array | null;
  resumes?: number;
}

export interface Task {
  seq: number;
  load?: LoadTask | null;
  calls?: CallTask[];
}

export interface Recording {
  type: string;
  codec: string;
  fmtp?: string | null;
  folder?: string | null;
  filename?: string | null;
}

export interface HostCall {
  log?: { level: number; text: Uint8Array } | null;
  pushEvent?: { session: number; transaction?: string | null; event: Uint8Array; jsep?: Uint8Array | null } | null;
  notifyEvent?: { session: number; event: Uint8Array } | null;
  closePc?: number | null;
  endSession?: number | null;
  configureMedium?: { session: number; medium: string; incoming: boolean; enabled: boolean } | null;
  addRecipient?: { sender: number; recipient: number } | null;
  removeRecipient?: { sender: number; recipient: number } | null;
  setBitrate?: { session: number; value: number } | null;
  setPliFreq?: { session: number; value: number } | null;
  setSubstream?: { session: number; value: number } | null;
  setTemporalLayer?: { session: number; value: number } | null;
  sendPli?: number | null;
  startRecording?: { session: number; recordings: Recording[] } | null;
  stopRecording?: { session: number; types: string[] } | null;
  relayRtp?: { session: number; video: boolean; packet: Uint8Array } | null;
  relayRtcp?: { session: number; video: boolean; packet: Uint8Array } | null;
  relayData?: { session: number; binary: boolean; payload: Uint8Array; label: string; protocol: string } | null;
  timeCallback?: { functionName: string; argument?: Uint8Array | null; delayMs: number } | null;
  poke?: number | null;
}

/** ScriptInfo in bridge.proto: the plugin's info as the script reports it. */
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

/** Finds proto/bridge.proto above this module (dist/src/script or src/script); bounded walk. */
function protoPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto', 'bridge.proto');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`bridge: proto/bridge.proto not found above ${__dirname}`);
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
// finish() may return a view into a shared 8 KiB pool; posting a view clones its whole buffer,
// so the bytes are copied into an exact-size buffer first (measured: 100 us -> a few us).
export function encodeTask(task: Task): Uint8Array {
  return exact(getCodec().task.encode(task as unknown as protobuf.Message).finish());
}

function exact(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

export function decodeTask(bytes: Uint8Array): Task {
  return getCodec().task.decode(bytes) as unknown as Task;
}

export function encodeReply(reply: Reply): Uint8Array {
  return exact(getCodec().reply.encode(reply as unknown as protobuf.Message).finish());
}

export function decodeReply(bytes: Uint8Array): Reply {
  return getCodec().reply.decode(bytes) as unknown as Reply;
}
