// The script sessions on the main thread: uint32 script ids mapped to 53-bit Janus handle
// ids, and per session the state janus_lua.c keeps in janus_lua_session (six media flags,
// sender and recipients, bitrate, PLI frequency, simulcast targets, recorders, started,
// data ready). It is updated as the script's host calls are applied, so tests and Admin
// handle_info can observe what the script asked for.

import { randomInt } from 'node:crypto';
import type { JsonObject } from '../plugin/json';
import type { MediumKind, RecordingRequest } from '../plugin/media';
import type { JsepSimulcast, PluginHandle } from '../plugin/plugin';

export interface MediumFlags {
  /** Relayed media/data may be delivered to this user. */
  in: boolean;
  /** Media/data from this user may be relayed (and recorded). */
  out: boolean;
}

export interface ScriptSessionState {
  readonly scriptId: number;
  readonly handle: PluginHandle;
  media: Record<MediumKind, MediumFlags>;
  /** Handle id of the session feeding this one (last addRecipient wins). */
  sender?: number;
  /** Handle ids this session's media is relayed to, in insertion order. */
  recipients: number[];
  bitrate: number;
  pliFreq: number;
  substream: number;
  temporalLayer: number;
  recorders: Partial<Record<MediumKind, RecordingRequest>>;
  started: boolean;
  dataReady: boolean;
  e2ee: boolean;
  /** First video codec of the last answer (simulcast layer detection). */
  videoCodec?: string;
  simulcast?: JsepSimulcast;
  /** The script was restarted: its state for this handle is gone; the handle is being detached. */
  orphaned: boolean;
}

function freshMedia(): Record<MediumKind, MediumFlags> {
  return { audio: { in: false, out: false }, video: { in: false, out: false }, data: { in: false, out: false } };
}

/** Resets what Janus resets before hangupMedia (docs/contract.md §2). Recorders survive. */
export function resetForHangup(state: ScriptSessionState): void {
  state.media = freshMedia();
  state.bitrate = 0;
  state.pliFreq = 0;
  state.substream = 2;
  state.temporalLayer = 2;
  state.e2ee = false;
  state.simulcast = undefined;
  state.started = false;
  state.dataReady = false;
}

const MAX_ID_DRAWS = 1000;

export class SessionTable {
  private readonly byScript = new Map<number, ScriptSessionState>();
  private readonly byHandle = new Map<number, ScriptSessionState>();

  /** A new session with a random non-zero uint32 id unique among live sessions. */
  create(handle: PluginHandle): ScriptSessionState {
    let scriptId = 0;
    for (let i = 0; i < MAX_ID_DRAWS && (scriptId === 0 || this.byScript.has(scriptId)); i++) {
      scriptId = randomInt(1, 2 ** 32 - 1);
    }
    if (scriptId === 0 || this.byScript.has(scriptId)) throw new Error('no free script session id');
    const state: ScriptSessionState = {
      scriptId,
      handle,
      media: freshMedia(),
      recipients: [],
      bitrate: 0,
      pliFreq: 0,
      substream: 2,
      temporalLayer: 2,
      recorders: {},
      started: false,
      dataReady: false,
      e2ee: false,
      orphaned: false,
    };
    this.byScript.set(scriptId, state);
    this.byHandle.set(handle.id, state);
    return state;
  }

  remove(state: ScriptSessionState): void {
    if (this.byScript.get(state.scriptId) === state) this.byScript.delete(state.scriptId);
    if (this.byHandle.get(state.handle.id) === state) this.byHandle.delete(state.handle.id);
  }

  fromScript(scriptId: number): ScriptSessionState | undefined {
    return this.byScript.get(scriptId);
  }

  fromHandle(handleId: number): ScriptSessionState | undefined {
    return this.byHandle.get(handleId);
  }

  all(): ScriptSessionState[] {
    return [...this.byScript.values()];
  }
}

/** The state as JSON, for Admin handle_info or debugging. */
export function sessionStateJson(state: ScriptSessionState): JsonObject {
  const recorders: JsonObject = {};
  for (const [type, r] of Object.entries(state.recorders)) {
    if (r) recorders[type] = { codec: r.codec, ...(r.fmtp ? { fmtp: r.fmtp } : {}), ...(r.folder ? { folder: r.folder } : {}), ...(r.filename ? { filename: r.filename } : {}) };
  }
  return {
    script_id: state.scriptId,
    media: {
      audio: { in: state.media.audio.in, out: state.media.audio.out },
      video: { in: state.media.video.in, out: state.media.video.out },
      data: { in: state.media.data.in, out: state.media.data.out },
    },
    ...(state.sender !== undefined ? { sender: state.sender } : {}),
    recipients: [...state.recipients],
    bitrate: state.bitrate,
    pli_freq: state.pliFreq,
    substream: state.substream,
    temporal_layer: state.temporalLayer,
    recorders,
    started: state.started,
    data_ready: state.dataReady,
    e2ee: state.e2ee,
    ...(state.videoCodec ? { video_codec: state.videoCodec } : {}),
    ...(state.orphaned ? { orphaned: true } : {}),
  };
}
