// Applies the host calls a script made during a task, in order, on the main thread: events
// and PeerConnection requests go to the PluginHost, media requests to its MediaRouter (keyed
// by Janus handle id), and the janus_lua_session-equivalent state is updated to match.

import { codecNamed } from '../common/codecs';
import type { Logger } from '../log';
import type { JsonObject, JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { MediumKind, RecordingRequest } from '../plugin/media';
import type { PluginHost, PluginJsep } from '../plugin/plugin';
import type { HostCall } from '../common/bridge';
import { resetForHangup, type ScriptSessionState, type SessionTable } from './sessions';

const JANUS_TO_LOG = { 1: 'fatal', 2: 'error', 3: 'warn', 4: 'info', 5: 'debug', 6: 'trace', 7: 'trace' } as const;
const ANSI_SGR = /\u001b\[[0-9;]*m/g;
const MEDIA: MediumKind[] = ['audio', 'video', 'data'];
const fromUtf8 = new TextDecoder('utf-8');

export interface HostCallContext {
  readonly sessions: SessionTable;
  readonly log: Logger;
  host(): PluginHost | undefined;
  /** timeCallback: call the global `functionName` after `delayMs`. */
  setTimer(functionName: string, argument: Uint8Array | null, delayMs: number): void;
}

export class HostCallApplier {
  constructor(private readonly ctx: HostCallContext) {}

  /** What Janus resets before hangupMedia: media flags, limits, this session's recipients. */
  resetMedia(state: ScriptSessionState): void {
    resetForHangup(state);
    const media = this.ctx.host()?.media;
    for (const recipientHandle of state.recipients) {
      const recipient = this.ctx.sessions.fromHandle(recipientHandle);
      if (recipient && recipient.sender === state.handle.id) recipient.sender = undefined;
      media?.removeRecipient(state.handle.id, recipientHandle);
    }
    state.recipients = [];
    if (!media) return;
    for (const kind of MEDIA) {
      media.configureMedium(state.handle.id, kind, 'in', false);
      media.configureMedium(state.handle.id, kind, 'out', false);
    }
    media.setBitrate(state.handle.id, 0);
    media.setPliFreq(state.handle.id, 0);
  }

  /** After destroySession: unlink from its sender and recipients, close recorders, forget it. */
  unlinkAndRemove(state: ScriptSessionState): void {
    const media = this.ctx.host()?.media;
    if (state.sender !== undefined) {
      const sender = this.ctx.sessions.fromHandle(state.sender);
      if (sender) sender.recipients = sender.recipients.filter((r) => r !== state.handle.id);
      media?.removeRecipient(state.sender, state.handle.id);
      state.sender = undefined;
    }
    for (const other of this.ctx.sessions.all()) {
      if (other !== state && other.recipients.includes(state.handle.id)) {
        other.recipients = other.recipients.filter((r) => r !== state.handle.id);
        media?.removeRecipient(other.handle.id, state.handle.id);
      }
    }
    for (const recipientHandle of state.recipients) {
      const recipient = this.ctx.sessions.fromHandle(recipientHandle);
      if (recipient && recipient.sender === state.handle.id) recipient.sender = undefined;
      media?.removeRecipient(state.handle.id, recipientHandle);
    }
    state.recipients = [];
    const recording = MEDIA.filter((k) => state.recorders[k]);
    if (recording.length > 0) media?.stopRecording(state.handle.id, recording);
    state.recorders = {};
    this.ctx.sessions.remove(state);
  }

  applyAll(calls: readonly HostCall[]): void {
    for (const call of calls) {
      try {
        this.apply(call);
      } catch (error) {
        this.ctx.log.error('applying a script host call failed', { error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  private handleOf(scriptId: number): ScriptSessionState | undefined {
    return this.ctx.sessions.fromScript(scriptId);
  }

  /** A host call that sets one number of the session state and hands it to the media router. */
  private setNumber(
    call: { session: number; value: number },
    field: 'bitrate' | 'pliFreq' | 'substream' | 'temporalLayer',
    toMedia: (handleId: number, value: number) => unknown,
  ): void {
    const state = this.handleOf(call.session);
    if (!state) return;
    state[field] = call.value;
    toMedia(state.handle.id, call.value);
  }

  private apply(call: HostCall): void {
    const host = this.ctx.host();
    if (call.log) {
      const level = JANUS_TO_LOG[call.log.level as keyof typeof JANUS_TO_LOG];
      if (level) this.ctx.log.log(level, fromUtf8.decode(call.log.text).replace(ANSI_SGR, ''), { source: 'janusLog' });
      return;
    }
    if (!host) return;
    const media = host.media;
    if (call.pushEvent) {
      const { session, transaction, event, jsep } = call.pushEvent;
      const state = this.handleOf(session);
      if (!state) return;
      const data = parseJson(event);
      if (!isJsonObject(data)) return;
      let pluginJsep: PluginJsep | undefined;
      if (jsep) {
        pluginJsep = toPluginJsep(parseJson(jsep));
        if (!pluginJsep) return;
        if (pluginJsep.type === 'answer') {
          const codec = firstVideoCodec(pluginJsep.sdp);
          if (codec) state.videoCodec = codec;
        }
        if (pluginJsep.e2ee === true) state.e2ee = true;
      }
      const rc = host.pushEvent(state.handle.id, transaction ?? undefined, data as JsonObject, pluginJsep);
      if (rc !== 0) this.ctx.log.debug('pushEvent not delivered', { handle: state.handle.id, rc });
      return;
    }
    if (call.notifyEvent) {
      const data = parseJson(call.notifyEvent.event);
      if (data === undefined) return;
      const state = this.handleOf(call.notifyEvent.session);
      host.notifyEvent(state ? state.handle.id : 0, data);
      return;
    }
    if (call.closePc) {
      const state = this.handleOf(call.closePc);
      if (state) host.closePc(state.handle.id);
      return;
    }
    if (call.endSession) {
      const state = this.handleOf(call.endSession);
      if (state) host.endSession(state.handle.id);
      return;
    }
    if (call.configureMedium) {
      const { session, medium, incoming, enabled } = call.configureMedium;
      const state = this.handleOf(session);
      if (!state || (medium !== 'audio' && medium !== 'video' && medium !== 'data')) return;
      state.media[medium][incoming ? 'in' : 'out'] = enabled;
      media.configureMedium(state.handle.id, medium, incoming ? 'in' : 'out', enabled);
      return;
    }
    if (call.addRecipient) {
      const sender = this.handleOf(call.addRecipient.sender);
      const recipient = this.handleOf(call.addRecipient.recipient);
      if (!sender || !recipient) return;
      if (!sender.recipients.includes(recipient.handle.id)) {
        sender.recipients.push(recipient.handle.id);
        recipient.sender = sender.handle.id;
        media.addRecipient(sender.handle.id, recipient.handle.id);
      }
      return;
    }
    if (call.removeRecipient) {
      const sender = this.handleOf(call.removeRecipient.sender);
      const recipient = this.handleOf(call.removeRecipient.recipient);
      if (!sender || !recipient) return;
      sender.recipients = sender.recipients.filter((r) => r !== recipient.handle.id);
      recipient.sender = undefined;
      media.removeRecipient(sender.handle.id, recipient.handle.id);
      return;
    }
    if (call.setBitrate) return this.setNumber(call.setBitrate, 'bitrate', (id, value) => media.setBitrate(id, value));
    if (call.setPliFreq) return this.setNumber(call.setPliFreq, 'pliFreq', (id, value) => media.setPliFreq(id, value));
    if (call.setSubstream) return this.setNumber(call.setSubstream, 'substream', (id, value) => media.setSubstream(id, value));
    if (call.setTemporalLayer) {
      return this.setNumber(call.setTemporalLayer, 'temporalLayer', (id, value) => media.setTemporalLayer(id, value));
    }
    if (call.sendPli) {
      const state = this.handleOf(call.sendPli);
      if (state) media.sendPli(state.handle.id);
      return;
    }
    if (call.startRecording) {
      const state = this.handleOf(call.startRecording.session);
      if (!state) return;
      const requests: RecordingRequest[] = [];
      for (const r of call.startRecording.recordings) {
        if (r.type !== 'audio' && r.type !== 'video' && r.type !== 'data') continue;
        const request: RecordingRequest = { type: r.type, codec: r.codec };
        if (r.fmtp) request.fmtp = r.fmtp;
        if (r.folder) request.folder = r.folder;
        if (r.filename) request.filename = r.filename;
        state.recorders[r.type] = request;
        requests.push(request);
      }
      if (!media.startRecording(state.handle.id, requests)) this.ctx.log.warn('startRecording failed in the media plane', { handle: state.handle.id });
      return;
    }
    if (call.stopRecording) {
      const state = this.handleOf(call.stopRecording.session);
      if (!state) return;
      const types = call.stopRecording.types.filter((t): t is MediumKind => t === 'audio' || t === 'video' || t === 'data');
      for (const t of types) delete state.recorders[t];
      media.stopRecording(state.handle.id, types);
      return;
    }
    if (call.relayRtp || call.relayRtcp) {
      const relay = (call.relayRtp ?? call.relayRtcp)!;
      const state = this.handleOf(relay.session);
      if (!state) return;
      if (call.relayRtp) media.relayRtp(state.handle.id, relay.video, relay.packet);
      else media.relayRtcp(state.handle.id, relay.video, relay.packet);
      return;
    }
    if (call.relayData) {
      const { session, binary, payload, label, protocol } = call.relayData;
      const state = this.handleOf(session);
      if (!state) return;
      media.relayData(state.handle.id, { binary, payload: binary ? payload : fromUtf8.decode(payload), label, protocol });
      return;
    }
    if (call.timeCallback) {
      const { functionName, argument, delayMs } = call.timeCallback;
      this.ctx.setTimer(functionName, argument ?? null, delayMs);
    }
  }
}

export function parseJson(bytes: Uint8Array | null | undefined): JsonValue | undefined {
  if (!bytes) return undefined;
  try {
    return JSON.parse(fromUtf8.decode(bytes)) as JsonValue;
  } catch {
    return undefined;
  }
}

function toPluginJsep(value: JsonValue | undefined): PluginJsep | undefined {
  if (!isJsonObject(value)) return undefined;
  const { type, sdp } = value;
  if ((type !== 'offer' && type !== 'answer') || typeof sdp !== 'string') return undefined;
  const jsep: PluginJsep = { type, sdp };
  if (value.restart === true) jsep.restart = true;
  if (value.e2ee === true) jsep.e2ee = true;
  return jsep;
}

/**
 * The negotiated video codec of an answer, as janus_sdp_find_first_codec finds it: the first
 * video m-line that is not rejected (port 0) or inactive; its first payload type's codec (the
 * second's behind RED); a codec missing from the codec list means the next m-line.
 */
export function firstVideoCodec(sdp: string): string | undefined {
  for (const section of sdp.split(/\r?\n(?=m=)/)) {
    const lines = section.split(/\r?\n/);
    const [kind, port, , ...pts] = lines[0].split(' ');
    if (kind !== 'm=video' || Number.parseInt(port ?? '0', 10) === 0 || lines.includes('a=inactive')) continue;
    const nameOf = (pt: string | undefined): string | undefined => {
      // The video codecs of the list all use dynamic payload types: only an rtpmap names them.
      if (pt === undefined) return undefined;
      const rtpmap = lines.find((l) => l.startsWith(`a=rtpmap:${pt} `));
      return rtpmap ? /^a=rtpmap:\d+ ([^/\s]+)/.exec(rtpmap)?.[1].toLowerCase() : undefined;
    };
    let name = nameOf(pts[0]);
    if (name === 'red') name = nameOf(pts[1]);
    const codec = name === undefined ? undefined : codecNamed(name);
    if (codec?.medium === 'video') return codec.name;
  }
  return undefined;
}
