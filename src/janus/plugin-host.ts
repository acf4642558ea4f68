// The core side of the plugin contract (janus_callbacks): one host per plugin. It only
// reaches handles that belong to its own plugin.

import type { Logger } from '../log';
import type { JsonObject, JsonValue } from '../plugin/json';
import type { MediaRouter } from '../plugin/media';
import type { Plugin, PluginHost, PluginJsep } from '../plugin/plugin';
import { PushEventResult } from '../plugin/plugin';
import type { Handle } from './handle';

export interface PluginHostDeps {
  findHandle(handleId: number): Handle | undefined;
  eventsEnabled: boolean;
  media: MediaRouter;
  logger: Logger;
}

export class CorePluginHost implements PluginHost {
  constructor(
    private readonly plugin: Plugin,
    private readonly deps: PluginHostDeps,
  ) {}

  get media(): MediaRouter {
    return this.deps.media;
  }

  private own(handleId: number): Handle | undefined {
    const handle = this.deps.findHandle(handleId);
    return handle && handle.plugin === this.plugin ? handle : undefined;
  }

  pushEvent(handleId: number, transaction: string | undefined, event: JsonObject, jsep?: PluginJsep): number {
    const handle = this.own(handleId);
    if (!handle) return PushEventResult.HANDLE_GONE;
    return handle.pushEvent(transaction, event, jsep);
  }

  closePc(handleId: number): void {
    const handle = this.own(handleId);
    if (handle && !handle.stopping) handle.requestClosePc();
  }

  endSession(handleId: number): void {
    const handle = this.own(handleId);
    if (handle) handle.requestEnd();
  }

  eventsIsEnabled(): boolean {
    return this.deps.eventsEnabled;
  }

  notifyEvent(handleId: number, event: JsonValue): void {
    // No event handler backends exist yet: record the event in the log when enabled.
    if (!this.deps.eventsEnabled) return;
    this.deps.logger.debug('plugin event', { handle: handleId, event });
  }
}
