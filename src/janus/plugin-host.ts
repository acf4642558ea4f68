// The core side of the plugin contract (janus_callbacks): one host per plugin. It only
// reaches handles that belong to its own plugin, and so does its MediaRouter.

import type { EventBus } from '../events/event-bus';
import type { Logger } from '../log';
import type { JsonObject, JsonValue } from '../plugin/json';
import type { MediaRouter } from '../plugin/media';
import type { Plugin, PluginHost, PluginJsep } from '../plugin/plugin';
import { PushEventResult } from '../plugin/plugin';
import type { Handle } from './handle';
import { PluginMediaRouter } from './plugin-media-router';

export interface PluginHostDeps {
  findHandle(handleId: number): Handle | undefined;
  eventsEnabled: boolean;
  /** The media plane's router; the plugin gets it restricted to its own handles. */
  media: MediaRouter;
  logger: Logger;
  /** Where notifyEvent goes (plugin events, type 64); absent = debug log only. */
  events?: EventBus;
}

/** notifyEvent calls made before the plugin's package is known (during init) wait here. */
const MAX_EARLY_EVENTS = 1000;

export class CorePluginHost implements PluginHost {
  private packageName: string | undefined;
  private early: Array<{ handleId: number; event: JsonValue }> = [];
  readonly media: MediaRouter;

  constructor(
    private readonly plugin: Plugin,
    private readonly deps: PluginHostDeps,
  ) {
    this.media = new PluginMediaRouter({
      inner: deps.media,
      plugin,
      findHandle: (handleId) => deps.findHandle(handleId),
      packageName: () => this.packageName,
      logger: deps.logger,
    });
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
    if (!this.deps.eventsEnabled) return;
    if (this.packageName === undefined) {
      if (this.early.length < MAX_EARLY_EVENTS) this.early.push({ handleId, event });
      return;
    }
    this.forward(handleId, event);
  }

  /** The plugin's package, known once init has resolved: early notifyEvent calls go out now. */
  setPackage(packageName: string): void {
    this.packageName = packageName;
    for (const { handleId, event } of this.early.splice(0)) this.forward(handleId, event);
  }

  private forward(handleId: number, event: JsonValue): void {
    const events = this.deps.events;
    if (!events) {
      this.deps.logger.debug('plugin event', { handle: handleId, event });
      return;
    }
    // 0 or a handle that is not this plugin's: an event not tied to a handle.
    const handle = handleId === 0 ? undefined : this.own(handleId);
    events.plugin(handle ? handle.eventIds() : {}, this.packageName ?? '', event);
  }
}
