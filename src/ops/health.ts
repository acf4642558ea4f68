// /health and /ready: liveness (the process runs and its Janus/Admin listeners are bound) and
// readiness (listening, every media worker running, every script loaded, accepting sessions).
// Answers are JSON; not ready = 503 with the reasons.

import type { JanusCore } from '../janus/core';
import type { MediaPlane } from '../plugin/media-plane';
import type { JsonObject } from '../plugin/json';
import type { Plugin } from '../plugin/plugin';

export interface HealthSources {
  /** The Janus/Admin listeners' ports once all are bound; undefined while starting or stopped. */
  listeners(): Record<string, number> | undefined;
  core: JanusCore;
  plugins: readonly Plugin[];
  mediaPlane: MediaPlane;
}

export interface HealthAnswer {
  status: 200 | 503;
  body: JsonObject;
}

export class HealthCheck {
  constructor(private readonly sources: HealthSources) {}

  health(): HealthAnswer {
    const listeners = this.sources.listeners();
    if (!listeners) return { status: 503, body: { status: 'down', reason: 'listeners not bound (starting or stopped)' } };
    return { status: 200, body: { status: 'up', listeners } };
  }

  /** Every reason not to send traffic here now; empty = ready. */
  reasons(): string[] {
    const { core, plugins, mediaPlane } = this.sources;
    const reasons: string[] = [];
    if (!this.sources.listeners()) reasons.push('listeners not bound (starting or stopped)');
    const media = mediaPlane.monitor?.readiness();
    if (media && !media.ready) reasons.push(media.reason);
    for (const plugin of plugins) {
      const readiness = plugin.monitor?.readiness();
      if (readiness && !readiness.ready) reasons.push(readiness.reason);
    }
    if (!core.acceptingNewSessions) reasons.push('not accepting new sessions (Admin accept_new_sessions)');
    return reasons;
  }

  ready(): HealthAnswer {
    const reasons = this.reasons();
    return reasons.length === 0
      ? { status: 200, body: { ready: true } }
      : { status: 503, body: { ready: false, reasons } };
  }
}
