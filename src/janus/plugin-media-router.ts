// The MediaRouter one plugin gets (PluginHost.media): the media plane's router, restricted to
// the handles attached to that plugin. The media plane's router takes bare handle ids, so
// without this one plugin could relay, record or reconfigure another plugin's users.

import type { Logger } from '../log';
import type { MediaRouter, MediumDirection, MediumKind, RecordingRequest, RtpListener } from '../plugin/media';
import type { DataMessage, Plugin } from '../plugin/plugin';
import type { Handle } from './handle';

/** Where the router looks handles up, and whose they must be. */
export interface PluginMediaRouterDeps {
  /** The media plane's router, for every handle. */
  inner: MediaRouter;
  /** The plugin this router is for. */
  plugin: Plugin;
  /** Any attached handle, of any plugin. */
  findHandle(handleId: number): Handle | undefined;
  /** The plugin's package for the log, once known. */
  packageName(): string | undefined;
  logger: Logger;
}

export class PluginMediaRouter implements MediaRouter {
  /** Present when the media plane has a raw path. */
  readonly tapRtp?: (handleId: number, listener: RtpListener | undefined) => boolean;
  /** Present when the media plane delivers a user's RTCP. */
  readonly tapRtcp?: (handleId: number, listener: RtpListener | undefined) => boolean;

  constructor(private readonly deps: PluginMediaRouterDeps) {
    const { inner } = deps;
    const tap = inner.tapRtp;
    if (tap) this.tapRtp = (handleId, listener) => this.owns('tapRtp', handleId) && tap.call(inner, handleId, listener);
    const tapRtcp = inner.tapRtcp;
    if (tapRtcp) this.tapRtcp = (handleId, listener) => this.owns('tapRtcp', handleId) && tapRtcp.call(inner, handleId, listener);
  }

  get recordingRoots(): readonly string[] | undefined {
    return this.deps.inner.recordingRoots;
  }

  configureMedium(handleId: number, medium: MediumKind, direction: MediumDirection, enabled: boolean): boolean {
    return this.owns('configureMedium', handleId) && this.deps.inner.configureMedium(handleId, medium, direction, enabled);
  }

  addRecipient(senderId: number, recipientId: number): boolean {
    return this.owns('addRecipient', senderId, recipientId) && this.deps.inner.addRecipient(senderId, recipientId);
  }

  removeRecipient(senderId: number, recipientId: number): boolean {
    return this.owns('removeRecipient', senderId, recipientId) && this.deps.inner.removeRecipient(senderId, recipientId);
  }

  setBitrate(handleId: number, bitrate: number): boolean {
    return this.owns('setBitrate', handleId) && this.deps.inner.setBitrate(handleId, bitrate);
  }

  setPliFreq(handleId: number, seconds: number): boolean {
    return this.owns('setPliFreq', handleId) && this.deps.inner.setPliFreq(handleId, seconds);
  }

  setSubstream(handleId: number, substream: number): boolean {
    return this.owns('setSubstream', handleId) && this.deps.inner.setSubstream(handleId, substream);
  }

  setTemporalLayer(handleId: number, layer: number): boolean {
    return this.owns('setTemporalLayer', handleId) && this.deps.inner.setTemporalLayer(handleId, layer);
  }

  sendPli(handleId: number): boolean {
    return this.owns('sendPli', handleId) && this.deps.inner.sendPli(handleId);
  }

  startRecording(handleId: number, recordings: RecordingRequest[]): boolean {
    return this.owns('startRecording', handleId) && this.deps.inner.startRecording(handleId, recordings);
  }

  stopRecording(handleId: number, types: MediumKind[]): boolean {
    return this.owns('stopRecording', handleId) && this.deps.inner.stopRecording(handleId, types);
  }

  relayRtp(handleId: number, video: boolean, packet: Uint8Array): boolean {
    return this.owns('relayRtp', handleId) && this.deps.inner.relayRtp(handleId, video, packet);
  }

  relayRtcp(handleId: number, video: boolean, packet: Uint8Array): boolean {
    return this.owns('relayRtcp', handleId) && this.deps.inner.relayRtcp(handleId, video, packet);
  }

  relayData(handleId: number, message: DataMessage): boolean {
    return this.owns('relayData', handleId) && this.deps.inner.relayData(handleId, message);
  }

  /**
   * Whether every handle is attached to this plugin. A handle the core does not know is gone
   * (the media plane would answer false as well); one attached to another plugin is refused
   * with a warning, since only a plugin bug or a stale id gets there.
   */
  private owns(method: string, ...handleIds: number[]): boolean {
    for (const handleId of handleIds) {
      const handle = this.deps.findHandle(handleId);
      if (!handle) return false;
      if (handle.plugin !== this.deps.plugin) {
        this.deps.logger.warn('media call refused: the handle belongs to another plugin', {
          method, handle: handleId, plugin: this.deps.packageName() ?? '(initialising)', owner: handle.packageName,
        });
        return false;
      }
    }
    return true;
  }
}
