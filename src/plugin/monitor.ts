// What operations tooling (/ready, metrics) can learn from a plugin or the media plane, without
// either of them knowing about Prometheus or HTTP: readiness, and events to count.

import type { EventEmitter } from 'node:events';

/** Whether a part can serve now; `reason` says why not. */
export type Readiness = { ready: true } | { ready: false; reason: string };

/** One plugin callback: its time from submission to result (queueing included). */
export interface CallbackTiming {
  callback: string;
  seconds: number;
  /** The callback raised an error or hit a limit. */
  failed: boolean;
}

export interface PluginMonitorEvents {
  callback: [CallbackTiming];
  /** The plugin restarted after a failure (a script's worker hung, crashed or ran out of memory). */
  restart: [reason: string];
}

export interface PluginMonitor {
  /** Its name in metrics and readiness reasons (a script's path). */
  readonly name: string;
  readiness(): Readiness;
  readonly events: EventEmitter<PluginMonitorEvents>;
}
