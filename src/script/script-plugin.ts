// A script plugin on the main thread: implements Plugin by turning each callback into a task
// for the script's own worker (src/script/task-channel.ts does the batching, ordering,
// watchdog, restarts and timers) and by keeping what Janus's C side keeps per session: the
// state updated before and after a callback's host calls, which the host calls themselves
// change (host-calls.ts). When the worker is replaced, the handles it owned are detached
// (PluginHost.endSession) because their script state is gone.

import { EventEmitter } from 'node:events';
import { janusDebugLevel, type Logger } from '../log';
import type { ScriptConfig } from '../config';
import { LUA_PLUGIN_INFO } from '../common/identity';
import type { JsonObject, JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { PluginMonitor, PluginMonitorEvents, Readiness } from '../plugin/monitor';
import type { DataMessage, Plugin, PluginHandle, PluginHost, PluginInfo, PluginJsep, PluginResult } from '../plugin/plugin';
import { Status, callbackOf, type CallTask, type Result } from '../common/bridge';
import { firstVideoCodec, HostCallApplier, parseJson } from './host-calls';
import { sessionStateJson, SessionTable, type ScriptSessionState } from './sessions';
import { TaskChannel, type JobHooks, type ScriptOwner } from './task-channel';

export interface ScriptPluginOptions {
  /** Runtime inside the worker ('lua' or 'js'). */
  runtime: string;
  /** The 462 reason when handleMessage fails ("Lua error"; the Duktape plugin says "Duktape error"). */
  errorReason?: string;
  /** JavaScript runtime: wall-clock limit per callback in ms (vm timeout). */
  timeLimitMs?: number;
  /** A task not finished after this long means a hung worker: it is terminated (default 10 s). */
  taskTimeoutMs?: number;
  /** resumeScheduler runs per task before the rest is handed to a follow-up task. */
  maxResumeRounds?: number;
  /** Restarts allowed per minute before the plugin gives up (default 5). */
  maxRestartsPerMinute?: number;
  /** Told about script errors and restarts (the embedding API's events); optional. */
  observer?: ScriptObserver;
}

/** A script callback failed, ran over a limit, or the script did not load. */
export interface ScriptErrorReport {
  /** The script's package; absent when not known (the script never loaded). */
  plugin?: string;
  /** The script file. */
  script: string;
  /** The callback that failed (`handleMessage`, `timer`, ...), or `load` (load and init(config)). */
  callback: string;
  error: string;
  /** The instruction, time or memory limit was exceeded. */
  limitExceeded: boolean;
}

/** The script's worker hung, died or ran out of memory: it was terminated and the script started again. */
export interface ScriptRestartReport {
  plugin?: string;
  script: string;
  reason: string;
  /** Restarts of this plugin so far. */
  restarts: number;
  /** Too many restarts in a minute: the plugin stays failed. */
  gaveUp: boolean;
}

export interface ScriptObserver {
  scriptError(report: ScriptErrorReport): void;
  scriptRestart(report: ScriptRestartReport): void;
}

/** The script could not be loaded, or its init(config) failed. */
export class ScriptLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScriptLoadError';
  }
}

/** Optional callbacks a script may define (detected once, after load). */
export type ScriptHook =
  | 'handleAdminMessage' | 'incomingRtp' | 'incomingRtcp' | 'incomingTextData' | 'incomingBinaryData' | 'incomingData'
  | 'dataReady' | 'slowLink' | 'substreamChanged' | 'temporalLayerChanged'
  | 'getVersion' | 'getVersionString' | 'getDescription' | 'getName' | 'getAuthor' | 'getPackage';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8');

/** incomingRtp/incomingRtcp tasks queued or running at most; more packets are dropped (and counted). */
const MAX_RTP_IN_FLIGHT = 512;

export class ScriptPlugin implements Plugin {
  private readonly log: Logger;
  private host: PluginHost | undefined;
  private rtpInFlight = 0;
  private rtpDropped = 0;
  private rtcpDropped = 0;
  private infoValue: PluginInfo | undefined;
  private hookSet = new Set<string>();
  private readonly sessions = new SessionTable();
  private readonly channel: TaskChannel;
  private readonly calls: HostCallApplier;
  private readonly errorReason: string;
  readonly monitor: PluginMonitor;

  constructor(
    readonly script: ScriptConfig,
    logger: Logger,
    private readonly options: ScriptPluginOptions,
  ) {
    this.log = logger.child({ component: 'script', script: script.path });
    this.errorReason = options.errorReason ?? 'Lua error';
    this.channel = new TaskChannel(
      {
        name: script.path,
        logger: this.log,
        // The soft limit is checked in the worker; the V8 cap is a backstop above it.
        maxHeapMb: Math.max(64, script.memoryLimitMb * 2),
        memoryLimitMb: script.memoryLimitMb,
        taskTimeoutMs: options.taskTimeoutMs ?? 10_000,
        maxRestartsPerMinute: options.maxRestartsPerMinute ?? 5,
      },
      this.channelOwner(),
    );
    this.calls = new HostCallApplier({
      sessions: this.sessions,
      log: this.log,
      host: () => this.host,
      setTimer: (functionName, argument, delayMs) => this.channel.setTimer(functionName, argument, delayMs),
    });
    this.monitor = {
      name: script.path,
      readiness: () => this.readiness(),
      events: new EventEmitter<PluginMonitorEvents>(),
    };
  }

  /** Ready while loaded; not while loading, restarting after a failure, failed or destroyed. */
  private readiness(): Readiness {
    const name = `script ${this.script.path}`;
    switch (this.channel.state) {
      case 'ready': return { ready: true };
      case 'new':
      case 'loading': return { ready: false, reason: `${name} is loading` };
      case 'restarting': return { ready: false, reason: `${name} is restarting (${this.channel.lastRestartReason})` };
      case 'failed': return { ready: false, reason: `${name} failed to load or kept failing` };
      case 'destroyed': return { ready: false, reason: `${name} was destroyed` };
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async init(host: PluginHost): Promise<void> {
    if (this.channel.state !== 'new') throw new Error('script plugin already initialised');
    this.host = host;
    await this.channel.open();
  }

  /** How the task channel reaches this plugin: the load task, host calls, reports, restarts. */
  private channelOwner(): ScriptOwner {
    return {
      loadTask: () => ({
        runtime: this.options.runtime,
        scriptPath: this.script.path,
        modulesPath: this.script.modulesPath ?? null,
        config: this.script.config === undefined ? null : utf8.encode(this.script.config),
        instructionLimit: this.script.instructionLimit,
        logLevel: janusDebugLevel(this.log.level),
        eventsEnabled: this.host?.eventsIsEnabled() ?? false,
        memoryLimitBytes: this.script.memoryLimitMb * 1024 * 1024,
        maxResumeRounds: this.options.maxResumeRounds ?? 16,
        timeLimitMs: this.options.timeLimitMs ?? 0,
        recordingRoots: [...(this.host?.media.recordingRoots ?? [])],
        warmUp: this.script.warmUp !== false,
      }),
      loaded: (result) => this.loaded(result),
      loadFailed: (message) => {
        this.reportError({ callback: 'load', error: message, limitExceeded: false });
        return new ScriptLoadError(message);
      },
      applyCalls: (calls) => this.calls.applyAll(calls),
      callbackDone: (call, result, submittedAt) => this.callbackDone(call, result, submittedAt),
      restarting: (reason, restarts, gaveUp) => {
        this.tellObserver((observer) => observer.scriptRestart({ ...this.scriptIds(), reason, restarts, gaveUp }));
        this.monitor.events.emit('restart', reason);
      },
      sessionsLost: () => this.detachSessions(),
    };
  }

  private loaded(result: Result): void {
    this.hookSet = new Set(result.hooks ?? []);
    const info = result.info;
    this.infoValue = {
      package: info?.package ?? LUA_PLUGIN_INFO.package,
      name: info?.name ?? '',
      description: info?.description ?? '',
      author: info?.author ?? '',
      version: info?.version ?? 0,
      versionString: info?.versionString ?? '',
    };
    this.log.info('script loaded', { package: this.infoValue.package, hooks: [...this.hookSet] });
  }

  /** Failed callbacks are logged and reported; listeners (metrics) get every callback's time. */
  private callbackDone(call: CallTask, result: Result, submittedAt: number): void {
    const failed = result.status === Status.SCRIPT_ERROR || result.status === Status.LIMIT_EXCEEDED;
    // Naming the callback and timing it is for failures and listeners only: this runs once
    // per incomingRtp packet too.
    const timed = this.monitor.events.listenerCount('callback') > 0;
    if (!failed && !timed) return;
    const callback = callbackOf(call) ?? 'unknown';
    if (failed) {
      const limitExceeded = result.status === Status.LIMIT_EXCEEDED;
      this.log.error('script callback failed', { callback, limit: limitExceeded, error: result.error });
      this.reportError({ callback, error: result.error ?? 'script error', limitExceeded });
    }
    if (timed) this.monitor.events.emit('callback', { callback, seconds: (performance.now() - submittedAt) / 1000, failed });
  }

  /**
   * The worker was replaced: handles owned by the old instance are detached with
   * PluginHost.endSession. Their state in the script is gone, so a closePc would leave handles
   * the script no longer knows; detaching tells the clients (`detached`) to attach again.
   */
  private detachSessions(): void {
    const orphans = this.sessions.all().filter((s) => !s.orphaned);
    for (const state of orphans) {
      state.orphaned = true;
      this.calls.resetMedia(state);
    }
    for (const state of orphans) this.host?.endSession(state.handle.id);
  }

  private reportError(details: Omit<ScriptErrorReport, 'plugin' | 'script'>): void {
    this.tellObserver((observer) => observer.scriptError({ ...this.scriptIds(), ...details }));
  }

  private scriptIds(): { script: string; plugin?: string } {
    return this.infoValue ? { script: this.script.path, plugin: this.infoValue.package } : { script: this.script.path };
  }

  /** An observer that throws is only logged: it must not break the script's supervision. */
  private tellObserver(tell: (observer: ScriptObserver) => void): void {
    const observer = this.options.observer;
    if (!observer) return;
    try {
      tell(observer);
    } catch (error) {
      this.log.warn('script observer failed', { error: error as Error });
    }
  }

  info(): PluginInfo {
    if (!this.infoValue) throw new Error('script plugin not initialised');
    return this.infoValue;
  }

  /** Optional callbacks the script defines (incomingRtp etc.). */
  hooks(): ReadonlySet<string> {
    return this.hookSet;
  }

  hasHook(name: ScriptHook): boolean {
    return this.hookSet.has(name);
  }

  async destroy(): Promise<void> {
    await this.channel.close();
  }

  // ---- Plugin callbacks --------------------------------------------------------------------

  async createSession(handle: PluginHandle): Promise<void> {
    const state = this.sessions.create(handle);
    const result = await this.submit({ session: state.scriptId, createSession: {} });
    if (!result || result.status !== Status.OK) {
      this.sessions.remove(state);
      throw new Error(result?.error ?? 'script unavailable');
    }
  }

  async handleMessage(handle: PluginHandle, transaction: string, body: JsonObject, jsep: PluginJsep | undefined): Promise<PluginResult> {
    const state = this.sessions.fromHandle(handle.id);
    if (!state) return { kind: 'error', reason: 'No such session' };
    if (state.orphaned) return { kind: 'error', reason: 'Script restarted' };
    const result = await this.submit(
      {
        session: state.scriptId,
        handleMessage: {
          transaction,
          // Buffer.from: the same bytes as TextEncoder (JSON.stringify's text is well-formed)
          // from Node's pool, several times cheaper for short texts.
          message: Buffer.from(JSON.stringify(body)),
          jsep: jsep ? Buffer.from(JSON.stringify(jsep)) : null,
        },
      },
      {
        session: state,
        // What the C side records before calling handleMessage (docs/contract.md §2).
        before: () => {
          if (!jsep) return;
          if (jsep.simulcast && jsep.simulcast.length > 0) state.simulcast = jsep.simulcast[0];
          if (jsep.type === 'answer') state.videoCodec = firstVideoCodec(jsep.sdp) ?? state.videoCodec;
          state.e2ee = jsep.e2ee === true;
        },
      },
    );
    if (!result || result.status !== Status.OK) return { kind: 'error', reason: this.errorReason };
    const code = result.code ?? 0;
    const text = result.text ? fromUtf8.decode(result.text) : undefined;
    if (code < 0) return { kind: 'error', reason: text ?? this.errorReason };
    if (code > 0) return { kind: 'ack' };
    if (text === undefined) return { kind: 'error', reason: this.errorReason };
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return { kind: 'error', reason: this.errorReason };
    }
    if (Array.isArray(data)) return { kind: 'error', reason: 'Plugin returned an invalid JSON response' };
    if (!isJsonObject(data)) return { kind: 'error', reason: this.errorReason };
    return { kind: 'ok', data: data as JsonObject };
  }

  async handleAdminMessage(request: JsonValue | undefined): Promise<JsonValue> {
    if (request === undefined || !this.hookSet.has('handleAdminMessage')) return {};
    const result = await this.submit({ handleAdminMessage: { message: utf8.encode(JSON.stringify(request)) } });
    const parsed = parseJson(result?.status === Status.OK ? result.json : undefined);
    return parsed !== undefined && typeof parsed === 'object' && parsed !== null ? parsed : {};
  }

  async setupMedia(handle: PluginHandle): Promise<void> {
    const state = this.sessions.fromHandle(handle.id);
    if (!state || state.orphaned) return;
    // A script with incomingRtp takes the user's RTP itself (the built-in relay stops).
    if (this.hookSet.has('incomingRtp')) this.host?.media.tapRtp?.(handle.id, (video, packet) => this.incomingRtp(handle, video, packet));
    if (this.hookSet.has('incomingRtcp')) this.host?.media.tapRtcp?.(handle.id, (video, packet) => this.incomingRtcp(handle, video, packet));
    await this.submit({ session: state.scriptId, setupMedia: {} }, { session: state, before: () => (state.started = true) });
  }

  async hangupMedia(handle: PluginHandle): Promise<void> {
    await this.withBookkeeping(handle, 'hangupMedia', 'before', (state) => this.calls.resetMedia(state));
  }

  async destroySession(handle: PluginHandle): Promise<void> {
    // destroySession runs before the C side unlinks the session and marks it dead.
    await this.withBookkeeping(handle, 'destroySession', 'after', (state) => this.calls.unlinkAndRemove(state));
  }

  /**
   * A callback whose main-side bookkeeping must happen even when the script cannot run it: for
   * an orphaned session at once, otherwise in task order, before or after its host calls.
   */
  private async withBookkeeping(
    handle: PluginHandle,
    callback: 'hangupMedia' | 'destroySession',
    when: 'before' | 'after',
    bookkeeping: (state: ScriptSessionState) => void,
  ): Promise<void> {
    const state = this.sessions.fromHandle(handle.id);
    if (!state) return;
    if (state.orphaned) return bookkeeping(state);
    const call: CallTask = callback === 'hangupMedia' ? { session: state.scriptId, hangupMedia: {} } : { session: state.scriptId, destroySession: {} };
    await this.submit(call, { session: state, [when]: () => bookkeeping(state) });
  }

  async querySession(handle: PluginHandle): Promise<JsonObject | undefined> {
    const state = this.sessions.fromHandle(handle.id);
    if (!state || state.orphaned) return undefined;
    const result = await this.submit({ session: state.scriptId, querySession: {} }, { session: state });
    // A failed callback may still carry JSON (the Duktape plugin answers {"error": ...}).
    const parsed = parseJson(result?.json ?? undefined);
    return isJsonObject(parsed) ? (parsed as JsonObject) : undefined;
  }

  wantsIncomingData(binary: boolean): boolean {
    return binary ? this.hookSet.has('incomingBinaryData') : this.hookSet.has('incomingTextData') || this.hookSet.has('incomingData');
  }

  incomingData(handle: PluginHandle, message: DataMessage): void {
    const state = this.live(handle);
    if (!state) return;
    const payload = typeof message.payload === 'string' ? utf8.encode(message.payload) : message.payload;
    const data = { payload, label: message.label, protocol: message.protocol };
    void this.submit(
      message.binary ? { session: state.scriptId, incomingBinaryData: data } : { session: state.scriptId, incomingTextData: data },
      { session: state },
    );
  }

  /** Whether the script handles RTP itself (then the core must not relay, record or PLI). */
  wantsIncomingRtp(): boolean {
    return this.hookSet.has('incomingRtp');
  }

  wantsIncomingRtcp(): boolean {
    return this.hookSet.has('incomingRtcp');
  }

  incomingRtp(handle: PluginHandle, video: boolean, packet: Uint8Array): void {
    this.submitRaw(handle, 'incomingRtp', video, packet);
  }

  /** RTP packets incomingRtp could not take (the queue was full). */
  get droppedRtpPackets(): number {
    return this.rtpDropped;
  }

  incomingRtcp(handle: PluginHandle, video: boolean, packet: Uint8Array): void {
    this.submitRaw(handle, 'incomingRtcp', video, packet);
  }

  /**
   * Bounded: a script slower than the packet rate loses packets, not memory. RTP and RTCP share
   * one budget (one raw path) and are counted apart.
   */
  private submitRaw(handle: PluginHandle, callback: 'incomingRtp' | 'incomingRtcp', video: boolean, packet: Uint8Array): void {
    const state = this.live(handle);
    if (!state || !this.hookSet.has(callback)) return;
    if (this.rtpInFlight >= MAX_RTP_IN_FLIGHT) {
      const dropped = callback === 'incomingRtp' ? this.rtpDropped++ : this.rtcpDropped++;
      if (dropped % 1000 === 0) this.log.warn(`${callback} cannot keep up; packets dropped`, { dropped: dropped + 1 });
      return;
    }
    this.rtpInFlight++;
    const task = callback === 'incomingRtp'
      ? { session: state.scriptId, incomingRtp: { video, packet } }
      : { session: state.scriptId, incomingRtcp: { video, packet } };
    void this.submit(task, { session: state }).finally(() => this.rtpInFlight--);
  }

  /** RTCP packets incomingRtcp could not take (the queue was full). */
  get droppedRtcpPackets(): number {
    return this.rtcpDropped;
  }

  dataReady(handle: PluginHandle): void {
    const state = this.live(handle);
    if (!state) return;
    // Always sent: the worker's "data ready" flag gates relayTextData even without the hook.
    void this.submit({ session: state.scriptId, dataReady: {} }, { session: state, before: () => (state.dataReady = true) });
  }

  slowLink(handle: PluginHandle, uplink: boolean, video: boolean): void {
    const state = this.live(handle);
    if (state && this.hookSet.has('slowLink')) {
      void this.submit({ session: state.scriptId, slowLink: { uplink, video } }, { session: state });
    }
  }

  substreamChanged(handle: PluginHandle, substream: number): void {
    const state = this.live(handle);
    if (state && this.hookSet.has('substreamChanged')) {
      void this.submit({ session: state.scriptId, substreamChanged: { value: substream } }, { session: state });
    }
  }

  temporalLayerChanged(handle: PluginHandle, layer: number): void {
    const state = this.live(handle);
    // Janus 1.1.2 runs it only when substreamChanged is defined too: the callback table
    // (workers/runtime.ts, `requires`) keeps that rule.
    if (state && this.hookSet.has('temporalLayerChanged')) {
      void this.submit({ session: state.scriptId, temporalLayerChanged: { value: layer } }, { session: state });
    }
  }

  // ---- observation -------------------------------------------------------------------------

  /** The janus_lua_session-equivalent state of a handle (live object; do not mutate). */
  sessionState(handleId: number): Readonly<ScriptSessionState> | undefined {
    return this.sessions.fromHandle(handleId);
  }

  /** The same as JSON, for Admin handle_info. */
  sessionInfo(handleId: number): JsonObject | undefined {
    const state = this.sessions.fromHandle(handleId);
    return state ? sessionStateJson(state) : undefined;
  }

  /** Times the script was restarted after a failure of its worker. */
  get restarts(): number {
    return this.channel.restarts;
  }

  // ---- helpers -----------------------------------------------------------------------------

  private live(handle: PluginHandle): ScriptSessionState | undefined {
    const state = this.sessions.fromHandle(handle.id);
    return state && !state.orphaned ? state : undefined;
  }

  /** Queues a callback on the task channel. */
  private submit(call: CallTask, hooks: JobHooks = {}): Promise<Result | undefined> {
    return this.channel.submit(call, hooks);
  }
}
