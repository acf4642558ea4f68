// The hand-written TypeScript mirror of proto/bridge.proto (src/common/bridge.ts) against the
// .proto itself: every message, every field, its type and the Status values. The field lists
// below are typed from bridge.ts (`satisfies Fields<T>`: a field added to or removed from a
// TypeScript interface, or a wrong kind, fails compilation); the test then fails when the
// .proto has a message or field the lists do not, or the other way round.

import { expect } from 'chai';
import path from 'node:path';
import * as protobuf from 'protobufjs';
import {
  Status, callbackOf, decodeTask, encodeTask,
  type CallArguments, type CallMessage, type ConfigureMedium, type Empty, type HandleAdminMessage, type HandleMessage, type HostCall,
  type IncomingData, type IncomingPacket, type Layer, type LoadTask, type Log, type NotifyEvent, type Pair, type PushEvent,
  type Recording, type Relay, type RelayData, type Reply, type Result, type ResumeScheduler, type ScriptInfoMessage,
  type SessionValue, type SlowLink, type StartRecording, type StopRecording, type Task, type Timer, type TimerFired,
} from '../src/common/bridge';

/** A field's kind as written below: scalars by their TypeScript type, messages by their .proto name. */
type Kind<T> =
  [T] extends [Uint8Array] ? 'bytes'
    : [T] extends [number] ? 'number'
      : [T] extends [boolean] ? 'boolean'
        : [T] extends [string] ? 'string'
          : [T] extends [readonly (infer E)[]] ? `${Kind<E>}[]`
            : string;
type Fields<T> = { readonly [K in keyof T]-?: Kind<NonNullable<T[K]>> };

const MIRROR: Record<string, Record<string, string>> = {
  Task: { seq: 'number', load: 'Load', calls: 'Call[]' } satisfies Fields<Task>,
  Reply: { instance: 'string', seq: 'number', results: 'Result[]' } satisfies Fields<Reply>,
  Load: {
    runtime: 'string', scriptPath: 'string', modulesPath: 'string', config: 'bytes', instructionLimit: 'number', logLevel: 'number',
    eventsEnabled: 'boolean', memoryLimitBytes: 'number', maxResumeRounds: 'number', timeLimitMs: 'number', recordingRoots: 'string[]',
    warmUp: 'boolean',
  } satisfies Fields<LoadTask>,
  Call: {
    session: 'number', destroy: 'Empty', resumeScheduler: 'ResumeScheduler', createSession: 'Empty', destroySession: 'Empty',
    querySession: 'Empty', handleMessage: 'HandleMessage', handleAdminMessage: 'HandleAdminMessage', setupMedia: 'Empty',
    hangupMedia: 'Empty', incomingRtp: 'IncomingPacket', incomingRtcp: 'IncomingPacket', incomingTextData: 'IncomingData',
    incomingBinaryData: 'IncomingData', dataReady: 'Empty', slowLink: 'SlowLink', substreamChanged: 'Layer',
    temporalLayerChanged: 'Layer', timer: 'TimerFired',
  } satisfies Fields<CallMessage>,
  Empty: {} satisfies Fields<Empty>,
  ResumeScheduler: { resumes: 'number' } satisfies Fields<ResumeScheduler>,
  HandleMessage: { transaction: 'string', message: 'bytes', jsep: 'bytes' } satisfies Fields<HandleMessage>,
  HandleAdminMessage: { message: 'bytes' } satisfies Fields<HandleAdminMessage>,
  IncomingPacket: { video: 'boolean', packet: 'bytes' } satisfies Fields<IncomingPacket>,
  IncomingData: { payload: 'bytes', label: 'string', protocol: 'string' } satisfies Fields<IncomingData>,
  SlowLink: { uplink: 'boolean', video: 'boolean' } satisfies Fields<SlowLink>,
  Layer: { value: 'number' } satisfies Fields<Layer>,
  TimerFired: { functionName: 'string', argument: 'bytes' } satisfies Fields<TimerFired>,
  Result: {
    status: 'number', error: 'string', calls: 'HostCall[]', followupCalls: 'HostCall[]', pendingPokes: 'number', code: 'number',
    text: 'bytes', json: 'bytes', info: 'Info', hooks: 'string[]', memoryBytes: 'number', overMemory: 'boolean',
  } satisfies Fields<Result>,
  Info: {
    package: 'string', name: 'string', description: 'string', author: 'string', version: 'number', versionString: 'string',
  } satisfies Fields<ScriptInfoMessage>,
  HostCall: {
    log: 'Log', pushEvent: 'PushEvent', notifyEvent: 'NotifyEvent', closePc: 'number', endSession: 'number',
    configureMedium: 'ConfigureMedium', addRecipient: 'Pair', removeRecipient: 'Pair', setBitrate: 'SessionValue',
    setPliFreq: 'SessionValue', setSubstream: 'SessionValue', setTemporalLayer: 'SessionValue', sendPli: 'number',
    startRecording: 'StartRecording', stopRecording: 'StopRecording', relayRtp: 'Relay', relayRtcp: 'Relay',
    relayData: 'RelayData', timeCallback: 'Timer', poke: 'number',
  } satisfies Fields<HostCall>,
  Log: { level: 'number', text: 'bytes' } satisfies Fields<Log>,
  PushEvent: { session: 'number', transaction: 'string', event: 'bytes', jsep: 'bytes' } satisfies Fields<PushEvent>,
  NotifyEvent: { session: 'number', event: 'bytes' } satisfies Fields<NotifyEvent>,
  ConfigureMedium: { session: 'number', medium: 'string', incoming: 'boolean', enabled: 'boolean' } satisfies Fields<ConfigureMedium>,
  Pair: { sender: 'number', recipient: 'number' } satisfies Fields<Pair>,
  SessionValue: { session: 'number', value: 'number' } satisfies Fields<SessionValue>,
  Recording: { type: 'string', codec: 'string', fmtp: 'string', folder: 'string', filename: 'string' } satisfies Fields<Recording>,
  StartRecording: { session: 'number', recordings: 'Recording[]' } satisfies Fields<StartRecording>,
  StopRecording: { session: 'number', types: 'string[]' } satisfies Fields<StopRecording>,
  Relay: { session: 'number', video: 'boolean', packet: 'bytes' } satisfies Fields<Relay>,
  RelayData: { session: 'number', binary: 'boolean', payload: 'bytes', label: 'string', protocol: 'string' } satisfies Fields<RelayData>,
  Timer: { functionName: 'string', argument: 'bytes', delayMs: 'number' } satisfies Fields<Timer>,
};

const NUMBER_TYPES = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);

/** A .proto field's kind in the terms of MIRROR. */
function protoKind(field: protobuf.Field): string {
  field.resolve();
  let kind: string;
  if (field.resolvedType instanceof protobuf.Enum) kind = 'number';
  else if (field.resolvedType instanceof protobuf.Type) kind = field.resolvedType.name;
  else if (NUMBER_TYPES.has(field.type)) kind = 'number';
  else if (field.type === 'bool') kind = 'boolean';
  else kind = field.type; // string, bytes (64-bit types would show up as themselves and fail)
  return field.repeated ? `${kind}[]` : kind;
}

describe('bridge.proto and its TypeScript mirror (src/common/bridge.ts)', () => {
  const root = protobuf.loadSync(path.join(__dirname, '..', '..', 'proto', 'bridge.proto'));
  const ns = root.lookup('luasfu.bridge') as protobuf.Namespace;
  const types = ns.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);

  it('has the same messages', () => {
    expect(types.map((t) => t.name).sort()).to.deep.equal(Object.keys(MIRROR).sort());
  });

  it('has the same fields with the same types in every message', () => {
    for (const type of types) {
      const proto = Object.fromEntries(type.fieldsArray.map((f) => [f.name, protoKind(f)]));
      expect(proto, type.name).to.deep.equal(MIRROR[type.name]);
    }
  });

  it('has the same Status values', () => {
    const proto = (ns.lookup('Status') as protobuf.Enum).values;
    const mirror = Object.fromEntries(Object.entries(Status).filter(([, v]) => typeof v === 'number'));
    expect(mirror).to.deep.equal({ ...proto });
  });

  it('carries exactly one callback per Call, named as in the oneof', () => {
    const oneof = (ns.lookup('Call') as protobuf.Type).oneofs.callback;
    const names: (keyof CallArguments)[] = oneof.fieldsArray.map((f) => f.name as keyof CallArguments);
    expect(names).to.have.length(18);
    const task = decodeTask(encodeTask({
      seq: 1,
      calls: [{ session: 7, slowLink: { uplink: true, video: false } }, { destroy: {} }, { session: 3, substreamChanged: { value: 2 } }],
    }));
    const calls = task.calls ?? [];
    expect(calls.map((c) => callbackOf(c))).to.deep.equal(['slowLink', 'destroy', 'substreamChanged']);
    expect(calls[0].slowLink).to.include({ uplink: true, video: false });
    expect(calls[0].substreamChanged ?? null).to.equal(null);
    expect(calls[2].substreamChanged?.value).to.equal(2);
    for (const name of names) expect(callbackOf({ [name]: {} } as CallMessage)).to.equal(name);
  });
});
