// The task channel between a script plugin and its worker thread: callbacks queued in one
// event-loop turn travel as one task (a message with a JSEP ends one); results (and their host
// calls) are applied in the order the callbacks were submitted, across three queues (waiting
// for the script to load, the outbox of the current turn, replies not yet applied). Pokes are
// served in the same task; their host calls are applied after the reply goes out
// (setImmediate), so clients see the ack before the event. Timers live here and submit a task
// when they fire. A worker that hangs, dies, runs out of memory or turns out to be a
// replacement is terminated and the script loaded again; what that means for the sessions is
// the owner's business (ScriptOwner).

import type { Logger } from '../log';
import { Status, type CallTask, type HostCall, type LoadTask, type Reply, type Result } from '../common/bridge';
import { ScriptPool } from './pool';

/** setTimeout's limit (longer delays would fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Callbacks sent to the worker in one task at most (one message each way per batch). */
const MAX_BATCH = 64;

/**
 * A message with a JSEP ends its task: negotiating is the script's heaviest work, and a task's
 * results come back together, so ten offers in one task would hold every answer until the
 * tenth is done (Janus sends each one as its script pushes it).
 */
function endsTask(call: CallTask): boolean {
  return 'handleMessage' in call && call.handleMessage.jsep != null;
}

/** How many of the queued callbacks the next task takes: up to MAX_BATCH, ending after a message with a JSEP. */
export function nextTaskSize(queued: ReadonlyArray<{ call: CallTask }>): number {
  const limit = Math.min(queued.length, MAX_BATCH);
  for (let i = 0; i < limit; i++) if (endsTask(queued[i]!.call)) return i + 1;
  return limit;
}

export type ChannelState = 'new' | 'loading' | 'ready' | 'restarting' | 'failed' | 'destroyed';

export interface TaskChannelOptions {
  /** The script file: names the pool and the error messages. */
  name: string;
  logger: Logger;
  /** Worker heap cap in MiB (a backstop above the script's own memory limit). */
  maxHeapMb: number;
  /** The script's memory limit in MiB, for the log line when it is exceeded. */
  memoryLimitMb: number;
  /** A task not finished after this long means a hung worker: it is terminated. */
  taskTimeoutMs: number;
  /** Restarts allowed per minute before the channel gives up. */
  maxRestartsPerMinute: number;
}

/** What the channel asks of the plugin that owns it. */
export interface ScriptOwner {
  /** The load task for a fresh worker (load + init(config)). */
  loadTask(): LoadTask;
  /** The script loaded: read its hooks and info. Called before queued callbacks are sent. */
  loaded(result: Result): void;
  /** The script did not load; the error to reject with. */
  loadFailed(message: string): Error;
  /** Applies host calls a task returned, in order. */
  applyCalls(calls: readonly HostCall[]): void;
  /** A callback's result was applied (failure reports, metrics). Runs once per RTP packet too. */
  callbackDone(call: CallTask, result: Result, submittedAt: number): void;
  /** The worker is being replaced (told before anything is torn down). */
  restarting(reason: string, restarts: number, gaveUp: boolean): void;
  /** The old worker is gone with the script state of every session: detach them. */
  sessionsLost(): void;
}

/** Bookkeeping run around a callback's host calls, in task order. */
export interface JobHooks {
  /** Applied just before the task's host calls (C-side state changes). */
  before?: () => void;
  /** Applied just after them. */
  after?: () => void;
  /** The callback's session: dropped unsent once orphaned (the script restarted meanwhile). */
  session?: { readonly orphaned: boolean };
}

interface Job extends JobHooks {
  call: CallTask;
  resolve: (result: Result | undefined) => void;
  /** performance.now() at submission: the callback's time for metrics includes its queueing. */
  submittedAt: number;
}

export class TaskChannel {
  private readonly log: Logger;
  private pool: ScriptPool | undefined;
  private instance = '';
  private stateValue: ChannelState = 'new';
  private generation = 0;
  private seq = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Jobs submitted while the script loads or restarts. */
  private readonly waiting: Job[] = [];
  /** Jobs of the current event-loop turn, sent together. */
  private readonly outbox: Job[] = [];
  private flushScheduled = false;
  /** Replies waiting to be applied, in task order. */
  private readonly inbox: Array<{ generation: number; jobs: Job[]; results: Result[] }> = [];
  private applying = false;
  private deferred: HostCall[][] = [];
  private inFlight = 0;
  private watchdog: NodeJS.Timeout | undefined;
  /** performance.now() when a task last finished, or when one went out with none in flight. */
  private lastProgress = 0;
  private restartTimes: number[] = [];
  private restartCount = 0;
  private lastRestart = '';

  constructor(
    private readonly options: TaskChannelOptions,
    private readonly owner: ScriptOwner,
  ) {
    this.log = options.logger;
  }

  get state(): ChannelState {
    return this.stateValue;
  }

  /** Why the last restart happened ('' before any). */
  get lastRestartReason(): string {
    return this.lastRestart;
  }

  /** Times the worker was replaced after a failure. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Loads the script. Resolves when ready; throws (state 'failed') otherwise. */
  async open(): Promise<void> {
    if (this.stateValue !== 'new') throw new Error('script plugin already initialised');
    this.stateValue = 'loading';
    await this.start();
  }

  /** Runs destroy() in the script (bounded wait) when it is loaded, then ends the worker. */
  async close(): Promise<void> {
    if (this.stateValue === 'destroyed') return;
    const wasReady = this.stateValue === 'ready';
    this.clearTimers();
    if (wasReady) {
      // The scheduler and timers are stopped first, as in Janus; then destroy() (bounded wait).
      const result = await this.withTimeout(this.submit({ destroy: {} })).catch(() => undefined);
      if (!result || result.status !== Status.OK) this.log.warn('destroy() failed', { error: result?.error ?? 'no answer' });
    }
    this.stateValue = 'destroyed';
    this.generation++;
    this.stopWatchdog();
    for (const job of this.waiting.splice(0)) this.abandon(job);
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy().catch(() => undefined);
  }

  /** Queues a callback. Resolves undefined when the worker failed or the script is gone. */
  submit(call: CallTask, hooks: JobHooks = {}): Promise<Result | undefined> {
    return new Promise((resolve) => {
      const job: Job = { call, before: hooks.before, after: hooks.after, session: hooks.session, resolve, submittedAt: performance.now() };
      if (this.stateValue === 'ready') this.enqueue(job);
      else if (this.stateValue === 'loading' || this.stateValue === 'restarting') this.waiting.push(job);
      else this.abandon(job);
    });
  }

  /** timeCallback: calls the global `functionName` after `delayMs`, unless the script restarted. */
  setTimer(functionName: string, argument: Uint8Array | null, delayMs: number): void {
    const generation = this.generation;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (generation !== this.generation) return;
      void this.submit({ timer: { functionName, argument } });
    }, Math.min(delayMs, MAX_TIMER_MS));
    this.timers.add(timer);
  }

  // ---- loading -----------------------------------------------------------------------------

  /** New pool, load + init(config). */
  private async start(): Promise<void> {
    const pool = new ScriptPool({ name: this.options.name, maxHeapMb: this.options.maxHeapMb });
    this.pool = pool;
    const generation = this.generation;
    let reply: Reply;
    try {
      reply = await this.withTimeout(pool.run({ seq: ++this.seq, load: this.owner.loadTask() }));
    } catch (error) {
      await pool.destroy().catch(() => undefined);
      if (generation === this.generation) this.stateValue = 'failed';
      throw this.owner.loadFailed(`script ${this.options.name} failed to start: ${(error as Error).message}`);
    }
    if (generation !== this.generation || this.stateValue === 'destroyed') {
      await pool.destroy().catch(() => undefined);
      throw new Error(`script ${this.options.name}: superseded while starting`);
    }
    const result: Result = reply.results[0] ?? { status: Status.LOAD_FAILED, error: 'empty reply to load' };
    this.owner.applyCalls(result.calls ?? []);
    if (result.status !== Status.OK) {
      this.stateValue = 'failed';
      await pool.destroy().catch(() => undefined);
      this.log.error('script failed to load', { error: result.error });
      throw this.owner.loadFailed(result.error ?? `script ${this.options.name} failed to load`);
    }
    this.instance = reply.instance;
    this.owner.loaded(result);
    this.stateValue = 'ready';
    this.afterResult(result);
    for (const job of this.waiting.splice(0)) this.enqueue(job);
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    const ms = this.options.taskTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
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

  // ---- batching and ordering ---------------------------------------------------------------

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
    if (this.stateValue !== 'ready' || !this.pool) {
      if (this.stateValue === 'loading' || this.stateValue === 'restarting') this.waiting.push(...this.outbox.splice(0));
      else for (const job of this.outbox.splice(0)) this.abandon(job);
      return;
    }
    while (this.outbox.length > 0) {
      const jobs = this.outbox.splice(0, nextTaskSize(this.outbox)).filter((job) => {
        if (!job.session?.orphaned) return true;
        this.abandon(job);
        return false;
      });
      if (jobs.length > 0) this.send(this.pool, jobs);
    }
  }

  private send(pool: ScriptPool, jobs: Job[]): void {
    const generation = this.generation;
    if (this.inFlight === 0) this.lastProgress = performance.now();
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
      // Not the thread the script was loaded in (or a mixed-up answer): never trust it silently.
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
    this.owner.applyCalls(result.calls ?? []);
    job.after?.();
    this.owner.callbackDone(job.call, result, job.submittedAt);
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
      this.log.error('script over its memory limit', { memoryBytes: result.memoryBytes, limitMb: this.options.memoryLimitMb });
      setImmediate(() => this.restart('memory limit exceeded'));
    }
  }

  private flushDeferred(): void {
    const batches = this.deferred;
    this.deferred = [];
    for (const calls of batches) this.owner.applyCalls(calls);
  }

  // ---- supervision -------------------------------------------------------------------------

  private taskDone(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.lastProgress = performance.now();
  }

  /**
   * Progress watchdog: some task must finish within taskTimeoutMs while any is in flight. One
   * timer, due taskTimeoutMs after the last progress: a task finishing only moves the stamp
   * (the timer, when it fires early, waits for the rest), not a timer per task.
   */
  private armWatchdog(delayMs = this.options.taskTimeoutMs): void {
    if (this.watchdog) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (this.inFlight === 0) return;
      const waited = performance.now() - this.lastProgress;
      if (waited >= this.options.taskTimeoutMs) this.restart(`worker hung (no task finished within ${this.options.taskTimeoutMs} ms)`);
      else this.armWatchdog(this.options.taskTimeoutMs - waited);
    }, delayMs);
    // A task in flight keeps the process alive through the script thread, not this timer.
    this.watchdog.unref();
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
   * Terminates the worker and loads the script again (init runs again). Everything in flight
   * is abandoned; what was waiting or queued waits for the new worker. Gives up (state
   * 'failed') after maxRestartsPerMinute restarts within a minute.
   */
  private restart(reason: string): void {
    if (this.stateValue !== 'ready') return;
    const now = Date.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < 60_000);
    this.restartTimes.push(now);
    this.restartCount++;
    this.lastRestart = reason;
    this.log.error('restarting script', { reason, restarts: this.restartCount });
    const gaveUp = this.restartTimes.length > this.options.maxRestartsPerMinute;
    this.owner.restarting(reason, this.restartCount, gaveUp);
    this.stateValue = 'restarting';
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
    this.owner.sessionsLost();
    if (gaveUp) {
      this.log.fatal('script keeps failing; not restarting it again', { restarts: this.restartTimes.length });
      this.stateValue = 'failed';
      for (const job of this.waiting.splice(0)) this.abandon(job);
      return;
    }
    this.start().catch((error: unknown) => {
      this.log.error('script restart failed', { error: error instanceof Error ? error.message : String(error) });
      for (const job of this.waiting.splice(0)) this.abandon(job);
    });
  }
}
