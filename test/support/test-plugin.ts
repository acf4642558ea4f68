// A small TypeScript plugin for core/transport tests ("janus.plugin.testecho"). It records
// every callback in order, and its `request` field picks a behaviour:
//   sync      -> synchronous success echoing the body
//   async     -> ack, then an event (with an answer/offer JSEP when the request had one)
//   events    -> ack, then `count` events numbered 0..count-1 (ordering tests)
//   offer     -> ack, then an event carrying a plugin offer
//   error     -> plugin error (462 with the plugin's reason)
//   throw     -> handleMessage throws
//   array     -> a synchronous reply that is not an object (462)
//   pushcodes -> sync reply with the codes pushEvent gave for bad input
//   end       -> sync reply, then endSession (deferred detach)
//   closepc   -> sync reply, then closePc
// A handle attached with opaque_id "fail-create" makes createSession reject (461).

import type { JsonObject, JsonValue } from '../../src/plugin/json';
import type { DataMessage, Plugin, PluginHandle, PluginHost, PluginInfo, PluginJsep, PluginResult } from '../../src/plugin/plugin';

export const TEST_PLUGIN_PACKAGE = 'janus.plugin.testecho';

export interface PluginCall {
  callback: string;
  handle?: number;
  detail?: JsonValue;
}

export class TestPlugin implements Plugin {
  host: PluginHost | undefined;
  readonly calls: PluginCall[] = [];
  readonly pushResults: number[] = [];
  destroyed = false;

  constructor(private readonly packageName = TEST_PLUGIN_PACKAGE) {}

  async init(host: PluginHost): Promise<void> {
    this.host = host;
    this.calls.push({ callback: 'init' });
  }

  info(): PluginInfo {
    return {
      package: this.packageName,
      name: 'Test echo plugin',
      description: 'A plugin for luasfu tests',
      author: 'luasfu',
      version: 7,
      versionString: '0.0.7',
    };
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.calls.push({ callback: 'destroy' });
  }

  /** Callbacks recorded for one handle, by name. */
  callsFor(handleId: number): string[] {
    return this.calls.filter((call) => call.handle === handleId).map((call) => call.callback);
  }

  private get api(): PluginHost {
    if (!this.host) throw new Error('test plugin not initialised');
    return this.host;
  }

  async createSession(handle: PluginHandle): Promise<void> {
    this.calls.push({ callback: 'createSession', handle: handle.id, detail: handle.opaqueId ?? null });
    if (handle.opaqueId === 'fail-create') throw new Error('refused by test plugin');
  }

  private push(handle: PluginHandle, transaction: string | undefined, event: JsonObject, jsep?: PluginJsep): void {
    this.pushResults.push(this.api.pushEvent(handle.id, transaction, event, jsep));
  }

  async handleMessage(
    handle: PluginHandle,
    transaction: string,
    body: JsonObject,
    jsep: PluginJsep | undefined,
  ): Promise<PluginResult> {
    this.calls.push({ callback: 'handleMessage', handle: handle.id, detail: { body, jsep: jsep ? (JSON.parse(JSON.stringify(jsep)) as JsonObject) : null } });
    const request = typeof body.request === 'string' ? body.request : 'async';
    switch (request) {
      case 'sync':
        return { kind: 'ok', data: { testecho: 'sync', echo: body } };
      case 'error':
        return { kind: 'error', reason: 'test plugin error' };
      case 'throw':
        throw new Error('test plugin exploded');
      case 'array':
        return { kind: 'ok', data: [1, 2] as unknown as JsonObject };
      case 'pushcodes': {
        const notObject = this.api.pushEvent(handle.id, undefined, [1] as unknown as JsonObject);
        const unknownHandle = this.api.pushEvent(12345, undefined, {});
        const badJsep = this.api.pushEvent(handle.id, undefined, {}, { type: 'offer', sdp: 'garbage' });
        return { kind: 'ok', data: { codes: [notObject, unknownHandle, badJsep] } };
      }
      case 'end':
        this.api.endSession(handle.id);
        return { kind: 'ok', data: { testecho: 'ending' } };
      case 'closepc':
        this.api.closePc(handle.id);
        return { kind: 'ok', data: { testecho: 'closing' } };
      case 'events': {
        const count = typeof body.count === 'number' ? body.count : 3;
        setImmediate(() => {
          for (let i = 0; i < count; i++) this.push(handle, undefined, { testecho: 'event', seq: i });
        });
        return { kind: 'ack' };
      }
      case 'offer':
        setImmediate(() => {
          this.push(handle, transaction, { testecho: 'offer' }, { type: 'offer', sdp: 'v=0\r\ns=plugin-offer\r\n' });
        });
        return { kind: 'ack', hint: 'offer follows' };
      default: {
        // async: ack now, then one event (answering a client offer when there is one).
        setImmediate(() => {
          const answer: PluginJsep | undefined = jsep
            ? { type: jsep.type === 'offer' ? 'answer' : 'offer', sdp: 'v=0\r\ns=plugin-answer\r\n' }
            : undefined;
          this.push(handle, transaction, { testecho: 'event', result: 'ok', echo: body }, answer);
        });
        return { kind: 'ack' };
      }
    }
  }

  async handleAdminMessage(request: JsonValue | undefined): Promise<JsonValue> {
    this.calls.push({ callback: 'handleAdminMessage', detail: request ?? null });
    return { testecho: 'admin', request: request ?? null };
  }

  async setupMedia(handle: PluginHandle): Promise<void> {
    this.calls.push({ callback: 'setupMedia', handle: handle.id });
  }

  async hangupMedia(handle: PluginHandle): Promise<void> {
    this.calls.push({ callback: 'hangupMedia', handle: handle.id });
  }

  async destroySession(handle: PluginHandle): Promise<void> {
    this.calls.push({ callback: 'destroySession', handle: handle.id });
  }

  async querySession(handle: PluginHandle): Promise<JsonObject | undefined> {
    const messages = this.calls.filter((call) => call.handle === handle.id && call.callback === 'handleMessage').length;
    return { testecho: true, messages };
  }

  wantsIncomingData(binary: boolean): boolean {
    return !binary;
  }

  incomingData(handle: PluginHandle, message: DataMessage): void {
    this.calls.push({ callback: 'incomingData', handle: handle.id, detail: String(message.payload) });
  }

  slowLink(handle: PluginHandle, uplink: boolean, video: boolean): void {
    this.calls.push({ callback: 'slowLink', handle: handle.id, detail: { uplink, video } });
  }
}
