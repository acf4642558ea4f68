// A script plugin on the main thread: implements Plugin by running the script's callbacks as
// tasks on the script's own worker (one piscina thread), then applying the host calls each
// task returns, in order. Pokes are served in the same task; their host calls are applied
// after the reply goes out (setImmediate), so clients see the ack before the event. Timers
// live here and submit a task when they fire. A worker that hangs, dies, runs out of memory
// or turns out to be a replacement is terminated and the script restarted; the handles it
// owned are detached (PluginHost.endSession) because their script state is gone.

import { EventEmitter } from 'node:events';
import { janusDebugLevel, type Logger } from '../log';
import type { ScriptConfig } from '../config';
import { LUA_PLUGIN_INFO } from '../common/identity';
import type { JsonObject, JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { PluginMonitor, PluginMonitorEvents, Readiness } from '../plugin/monitor';
import type { DataMessage, Plugin, PluginHandle, PluginHost, PluginInfo, PluginJsep, PluginResult } from '../plugin/plugin';
import { Status, callbackOf, type CallTask, type HostCall, type Reply, type Result } from '../common/bridge';
import { ScriptPool } from './pool';
import { firstVideoCodec, HostCallApplier, parseJson } from './host-calls';
import { sessionStateJson, SessionTable, type ScriptSessionState } from './sessions';

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

/** setTimeout's limit (longer delays would fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Callbacks sent to the worker in one task at most (one message each way per batch). */
const MAX_BATCH = 64;
/** incomingRtp tasks queued or running at most; more packets are dropped (and counted). */
const MAX_RTP_IN_FLIGHT = 512;

interface Job {
  call: CallTask;
  /** The session the callback is for: dropped unsent if the script restarted meanwhile. */
  session?: ScriptSessionState;
  /** Applied in task order just before the task's host calls (C-side state changes). */
  before?: () => void;
  /** Applied in task order just after them. */
  after?: () => void;
  resolve: (result: Result | undefined) => void;
  /** performance.now() at submission: the callback's time for metrics includes its queueing. */
  submittedAt: number;
}

type State = 'new' | 'loading' | 'ready' | 'restarting' | 'failed' | 'destroyed';

export class ScriptPlugin implements Plugin {
  private readonly log: Logger;
  private host: PluginHost | undefined;
  private rtpInFlight = 0;
  private rtpDropped = 0;
  private pool: ScriptPool | undefined;
  private instance = '';
  private state: State = 'new';
  private generation = 0;
  private seq = 0;
  private infoValue: PluginInfo | undefined;
  private hookSet = new Set<string>();
  private readonly sessions = new SessionTable();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiting: Job[] = [];
  private readonly outbox: Job[] = [];
  private flushScheduled = false;
  /** Replies waiting to be applied, in task order. */
  private readonly inbox: Array<{ generation: number; jobs: Job[]; results: Result[] }> = [];
  private applying = false;
  private deferred: HostCall[][] = [];
  private inFlight = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private restartTimes: number[] = [];
  private readonly taskTimeoutMs: number;
  private restartCount = 0;
  private readonly calls: HostCallApplier;
  private readonly errorReason: string;
  private lastRestartReason = '';
  readonly monitor: PluginMonitor;

  constructor(
    readonly script: ScriptConfig,
    logger: Logger,
    private readonly options: ScriptPluginOptions,
  ) {
    this.log = logger.child({ component: 'script', script: script.path });
    this.taskTimeoutMs = options.taskTimeoutMs ?? 10_000;
    this.errorReason = options.errorReason ?? 'Lua error';
    this.calls = new HostCallApplier({
      sessions: this.sessions,
      log: this.log,
      host: () => this.host,
      setTimer: (functionName, argument, delayMs) => this.setTimer(functionName, argument, delayMs),
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
    switch (this.state) {
      case 'ready': return { ready: true };
      case 'new':
      case 'loading': return { ready: false, reason: `${name} is loading` };
      case 'restarting': return { ready: false, reason: `${name} is restarting (${this.lastRestartReason})` };
      case 'failed': return { ready: false, reason: `${name} failed to load or kept failing` };
      case 'destroyed': return { ready: false, reason: `${name} was destroyed` };
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async init(host: PluginHost): Promise<void> {
    if (this.state !== 'new') throw new Error('script plugin already initialised');
    this.host = host;
    this.state = 'loading';
    await this.start();
  }

  /** New pool, load + init(config). Resolves when ready; throws (state 'failed') otherwise. */
  private async start(): Promise<void> {
    const pool = new ScriptPool({
      name: this.script.path,
      // The soft limit is checked in the worker; the V8 cap is a backstop above it.
      maxHeapMb: Math.max(64, this.script.memoryLimitMb * 2),
    });
    this.pool = pool;
    const generation = this.generation;
    let reply: Reply;
    try {
      reply = await this.withTimeout(pool.run({
        seq: ++this.seq,
        load: {
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
        },
      }));
    } catch (error) {
      await pool.destroy().catch(() => undefined);
      if (generation === this.generation) this.state = 'failed';
      throw this.loadFailed(`script ${this.script.path} failed to start: ${(error as Error).message}`);
    }
    if (generation !== this.generation || this.state === 'destroyed') {
      await pool.destroy().catch(() => undefined);
      throw new Error(`script ${this.script.path}: superseded while starting`);
    }
    const result: Result = reply.results[0] ?? { status: Status.LOAD_FAILED, error: 'empty reply to load' };
    this.calls.applyAll(result.calls ?? []);
    if (result.status !== Status.OK) {
      this.state = 'failed';
      await pool.destroy().catch(() => undefined);
      this.log.error('script failed to load', { error: result.error });
      throw this.loadFailed(result.error ?? `script ${this.script.path} failed to load`);
    }
    this.instance = reply.instance;
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
    this.state = 'ready';
    this.afterResult(result);
    this.log.info('script loaded', { package: this.infoValue.package, hooks: [...this.hookSet] });
    for (const job of this.waiting.splice(0)) this.enqueue(job);
  }

  private loadFailed(message: string): ScriptLoadError {
    this.reportError({ callback: 'load', error: message, limitExceeded: false });
    return new ScriptLoadError(message);
  }

  private reportError(details: Omit<ScriptErrorReport, 'plugin' | 'script'>): void {
    this.tellObserver((observer) => observer.scriptError({ ...this.scriptIds(), ...details }));
  }

  private reportRestart(details: Omit<ScriptRestartReport, 'plugin' | 'script'>): void {
    this.tellObserver((observer) => observer.scriptRestart({ ...this.scriptIds(), ...details }));
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

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${this.taskTimeoutMs} ms`)), this.taskTimeoutMs);
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
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
    if (this.state === 'destroyed') return;
    const wasReady = this.state === 'ready';
    this.clearTimers();
    if (wasReady) {
      // The scheduler and timers are stopped first, as in Janus; then destroy() (bounded wait).
      const result = await this.withTimeout(this.submit({ destroy: {} })).catch(() => undefined);
      if (!result || result.status !== Status.OK) this.log.warn('destroy() failed', { error: result?.error ?? 'no answer' });
    }
    this.state = 'destroyed';
    this.generation++;
    this.stopWatchdog();
    for (const job of this.waiting.splice(0)) this.abandon(job);
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy().catch(() => undefined);
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
          message: utf8.encode(JSON.stringify(body)),
          jsep: jsep ? utf8.encode(JSON.stringify(jsep)) : null,
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
    await this.submit({ session: state.scriptId, setupMedia: {} }, { session: state, before: () => (state.started = true) });
  }

  async hangupMedia(handle: PluginHandle): Promise<void> {
    const state = this.sessions.fromHandle(handle.id);
    if (!state) return;
    if (state.orphaned) {
      this.calls.resetMedia(state);
      return;
    }
    await this.submit({ session: state.scriptId, hangupMedia: {} }, { session: state, before: () => this.calls.resetMedia(state) });
  }

  async destroySession(handle: PluginHandle): Promise<void> {
    const state = this.sessions.fromHandle(handle.id);
    if (!state) return;
    if (state.orphaned) {
      this.calls.unlinkAndRemove(state);
      return;
    }
    // destroySession runs before the C side unlinks the session and marks it dead.
    await this.submit({ session: state.scriptId, destroySession: {} }, { session: state, after: () => this.calls.unlinkAndRemove(state) });
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
    const state = this.live(handle);
    if (!state || !this.hookSet.has('incomingRtp')) return;
    // Bounded: a script slower than the packet rate loses packets, not memory.
    if (this.rtpInFlight >= MAX_RTP_IN_FLIGHT) {
      if (this.rtpDropped++ % 1000 === 0) this.log.warn('incomingRtp cannot keep up; packets dropped', { dropped: this.rtpDropped });
      return;
    }
    this.rtpInFlight++;
    void this.submit({ session: state.scriptId, incomingRtp: { video, packet } }, { session: state })
      .finally(() => this.rtpInFlight--);
  }

  /** RTP packets incomingRtp could not take (the queue was full). */
  get droppedRtpPackets(): number {
    return this.rtpDropped;
  }

  incomingRtcp(handle: PluginHandle, video: boolean, packet: Uint8Array): void {
    const state = this.live(handle);
    if (state && this.hookSet.has('incomingRtcp')) {
      void this.submit({ session: state.scriptId, incomingRtcp: { video, packet } }, { session: state });
    }
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
    // Janus 1.1.2 quirk: only when substreamChanged is defined too.
    if (state && this.hookSet.has('substreamChanged') && this.hookSet.has('temporalLayerChanged')) {
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
    return this.restartCount;
  }

  // ---- task plumbing -----------------------------------------------------------------------

  private live(handle: PluginHandle): ScriptSessionState | undefined {
    const state = this.sessions.fromHandle(handle.id);
    return state && !state.orphaned ? state : undefined;
  }

  /** Queues a callback. Resolves undefined when the worker failed or the script is gone. */
  private submit(
    call: CallTask,
    hooks: { before?: () => void; after?: () => void; session?: ScriptSessionState } = {},
  ): Promise<Result | undefined> {
    return new Promise((resolve) => {
      const job: Job = { call, before: hooks.before, after: hooks.after, session: hooks.session, resolve, submittedAt: performance.now() };
      if (this.state === 'ready') this.enqueue(job);
      else if (this.state === 'loading' || this.state === 'restarting') this.waiting.push(job);
      else this.abandon(job);
    });
  }

  /**
   * A job that will not run (or whose result is lost): the main-side bookkeeping still happens
   * (hangup resets, destroy unlinks and forgets), since the core considers the callback done.
   */
  private abandon(job: Job): void {
    try {
      job.before?.();
      job.after?.();
    } catch (error) {
      this.log.error('script bookkeeping failed', { error: error instanceof Error ? error.message : String(error) });
    }
    job.resolve(undefined);
  }

  /** Callbacks queued in one event-loop turn travel to the worker as one task. */
  private enqueue(job: Job): void {
    this.outbox.push(job);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushOutbox());
  }

  private flushOutbox(): void {
    this.flushScheduled = false;
    if (this.state !== 'ready' || !this.pool) {
      if (this.state === 'loading' || this.state === 'restarting') this.waiting.push(...this.outbox.splice(0));
      else for (const job of this.outbox.splice(0)) this.abandon(job);
      return;
    }
    while (this.outbox.length > 0) {
      const jobs = this.outbox.splice(0, MAX_BATCH).filter((job) => {
        if (!job.session?.orphaned) return true;
        this.abandon(job);
        return false;
      });
      if (jobs.length > 0) this.send(this.pool, jobs);
    }
  }

  private send(pool: ScriptPool, jobs: Job[]): void {
    const generation = this.generation;
    this.inFlight++;
    this.armWatchdog();
    const seq = ++this.seq;
    pool.run({ seq, calls: jobs.map((job) => job.call) }).then(
      (reply) => this.onReply(jobs, generation, seq, reply),
      (error: unknown) => this.onFailure(jobs, generation, error),
    );
  }

  private onFailure(jobs: Job[], generation: number, error: unknown): void {
    for (const job of jobs) this.abandon(job);
    if (generation !== this.generation) return;
    this.taskDone();
    this.restart(`worker failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  private onReply(jobs: Job[], generation: number, seq: number, reply: Reply): void {
    if (generation !== this.generation) {
      for (const job of jobs) this.abandon(job);
      return;
    }
    this.taskDone();
    const results = reply.results ?? [];
    const foreign = reply.instance !== this.instance || reply.seq !== seq || results.length !== jobs.length;
    if (foreign || results.some((r) => r.status === Status.NOT_LOADED)) {
      // piscina replaced a dead thread: the script state is gone; never trust it silently.
      for (const job of jobs) this.abandon(job);
      this.restart('worker was replaced (script state lost)');
      return;
    }
    this.inbox.push({ generation, jobs, results });
    this.drainInbox();
  }

  /**
   * Applies results in order. After a result with follow-up calls (work queued by
   * pokeScheduler), it yields a macrotask so that job's reply goes out and its follow-ups are
   * applied before anything later: the order as if every callback were a task of its own.
   * Results without follow-ups are applied back to back (a later job's host calls may then
   * precede an earlier job's reply, which Janus's concurrent message threads allow too).
   */
  private drainInbox(): void {
    while (!this.applying) {
      let entry = this.inbox[0];
      while (entry && entry.generation !== this.generation) {
        for (const job of entry.jobs) this.abandon(job);
        this.inbox.shift();
        entry = this.inbox[0];
      }
      if (!entry) return;
      const job = entry.jobs.shift() as Job;
      const result = entry.results.shift() as Result;
      if (entry.jobs.length === 0) this.inbox.shift();
      this.applyResult(job, result);
      if ((result.followupCalls ?? []).length > 0) {
        this.applying = true;
        setImmediate(() => {
          this.applying = false;
          this.drainInbox();
        });
      }
    }
  }

  private applyResult(job: Job, result: Result): void {
    this.flushDeferred();
    job.before?.();
    this.calls.applyAll(result.calls ?? []);
    job.after?.();
    const failed = result.status === Status.SCRIPT_ERROR || result.status === Status.LIMIT_EXCEEDED;
    // Naming the callback and timing it is for failures and listeners (metrics) only: this runs
    // once per incomingRtp packet too.
    const timed = this.monitor.events.listenerCount('callback') > 0;
    if (failed || timed) {
      const callback = callbackOf(job.call) ?? 'unknown';
      if (failed) {
        const limitExceeded = result.status === Status.LIMIT_EXCEEDED;
        this.log.error('script callback failed', { callback, limit: limitExceeded, error: result.error });
        this.reportError({ callback, error: result.error ?? 'script error', limitExceeded });
      }
      if (timed) this.monitor.events.emit('callback', { callback, seconds: (performance.now() - job.submittedAt) / 1000, failed });
    }
    this.afterResult(result);
    job.resolve(result);
  }

  /** Follow-up host calls after the reply; leftover pokes; memory restarts. */
  private afterResult(result: Result): void {
    const followups = result.followupCalls ?? [];
    if (followups.length > 0) {
      this.deferred.push(followups);
      setImmediate(() => this.flushDeferred());
    }
    const pending = result.pendingPokes ?? 0;
    if (pending > 0) {
      const generation = this.generation;
      setImmediate(() => {
        if (generation === this.generation) void this.submit({ resumeScheduler: { resumes: pending } });
      });
    }
    if (result.overMemory) {
      this.log.error('script over its memory limit', { memoryBytes: result.memoryBytes, limitMb: this.script.memoryLimitMb });
      setImmediate(() => this.restart('memory limit exceeded'));
    }
  }

  private flushDeferred(): void {
    const batches = this.deferred;
    this.deferred = [];
    for (const calls of batches) this.calls.applyAll(calls);
  }

  private taskDone(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.stopWatchdog();
    if (this.inFlight > 0) this.armWatchdog();
  }

  /** Progress watchdog: some task must finish within taskTimeoutMs while any is in flight. */
  private armWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (this.inFlight > 0) this.restart(`worker hung (no task finished within ${this.taskTimeoutMs} ms)`);
    }, this.taskTimeoutMs);
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * Terminates the worker and starts the script again (init runs again). Handles owned by the
   * old instance are detached with PluginHost.endSession: their state in the script is gone,
   * so a closePc would leave handles the script no longer knows; detaching tells the clients
   * (`detached`) to attach again.
   */
  private restart(reason: string): void {
    if (this.state !== 'ready') return;
    const now = Date.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < 60_000);
    this.restartTimes.push(now);
    this.restartCount++;
    this.lastRestartReason = reason;
    this.log.error('restarting script', { reason, restarts: this.restartCount });
    const gaveUp = this.restartTimes.length > (this.options.maxRestartsPerMinute ?? 5);
    this.reportRestart({ reason, restarts: this.restartCount, gaveUp });
    this.monitor.events.emit('restart', reason);
    this.state = 'restarting';
    this.generation++;
    this.inFlight = 0;
    this.stopWatchdog();
    this.clearTimers();
    this.deferred = [];
    for (const entry of this.inbox.splice(0)) for (const job of entry.jobs) this.abandon(job);
    this.waiting.push(...this.outbox.splice(0));
    const old = this.pool;
    this.pool = undefined;
    void old?.destroy().catch(() => undefined);
    const orphans = this.sessions.all().filter((s) => !s.orphaned);
    for (const state of orphans) {
      state.orphaned = true;
      this.calls.resetMedia(state);
    }
    for (const state of orphans) this.host?.endSession(state.handle.id);
    if (gaveUp) {
      this.log.fatal('script keeps failing; not restarting it again', { restarts: this.restartTimes.length });
      this.state = 'failed';
      for (const job of this.waiting.splice(0)) this.abandon(job);
      return;
    }
    this.start().catch((error: unknown) => {
      this.log.error('script restart failed', { error: error instanceof Error ? error.message : String(error) });
      for (const job of this.waiting.splice(0)) this.abandon(job);
    });
  }

  /** timeCallback: calls the global `functionName` after `delayMs`, unless the script restarted. */
  private setTimer(functionName: string, argument: Uint8Array | null, delayMs: number): void {
    const generation = this.generation;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (generation !== this.generation) return;
      void this.submit({ timer: { functionName, argument } });
    }, Math.min(delayMs, MAX_TIMER_MS));
    this.timers.add(timer);
  }
}
