// A plugin written in TypeScript, without a script: an object implementing luasfu's `Plugin`
// (modelled on Janus's janus_plugin.h) given to createServer beside (or instead of) scripts.
// Clients attach to `janus.plugin.example.greeter` as to any Janus plugin:
//
//   {"request":"hello","name":"Ada"}  -> success {"greeter":"hello","text":"Hello, Ada!"}
//   {"request":"count"}               -> ack, then an event per second: {"greeter":"tick","n":1..3}
//
//   npm run build && node dist/examples/plugin-object.js    # Janus API on ws://127.0.0.1:8188
//
// It negotiates no media (it answers a JSEP with an error); media plugins are easiest as Lua or
// JavaScript scripts, or drive `host.media` (the MediaRouter) from here.

import {
  type JsonObject, type JsonValue, type Plugin, type PluginHandle, type PluginHost, type PluginInfo, type PluginJsep,
  type PluginResult, createServer,
} from 'luasfu';

export const GREETER_PACKAGE = 'janus.plugin.example.greeter';

interface Greeting {
  greeted: number;
  timers: Set<NodeJS.Timeout>;
}

export class GreeterPlugin implements Plugin {
  private host: PluginHost | undefined;
  private readonly sessions = new Map<number, Greeting>();

  async init(host: PluginHost): Promise<void> {
    this.host = host;
  }

  info(): PluginInfo {
    return {
      package: GREETER_PACKAGE,
      name: 'Greeter (TypeScript plugin example)',
      description: 'Greets, and counts to three with asynchronous events',
      author: 'luasfu examples',
      version: 1,
      versionString: '1.0.0',
    };
  }

  async destroy(): Promise<void> {
    for (const handleId of [...this.sessions.keys()]) this.forget(handleId);
  }

  async createSession(handle: PluginHandle): Promise<void> {
    this.sessions.set(handle.id, { greeted: 0, timers: new Set() });
  }

  async handleMessage(handle: PluginHandle, transaction: string, body: JsonObject, jsep: PluginJsep | undefined): Promise<PluginResult> {
    const session = this.sessions.get(handle.id);
    if (!session) return { kind: 'error', reason: 'No such session' };
    if (jsep) return { kind: 'error', reason: 'The greeter negotiates no media' };
    switch (body.request) {
      case 'hello': {
        session.greeted++;
        const name = typeof body.name === 'string' ? body.name : 'stranger';
        return { kind: 'ok', data: { greeter: 'hello', text: `Hello, ${name}!` } };
      }
      case 'count':
        // The reply is an ack; the events follow on the same transaction.
        for (let n = 1; n <= 3; n++) {
          const timer = setTimeout(() => {
            session.timers.delete(timer);
            this.host?.pushEvent(handle.id, transaction, { greeter: 'tick', n });
          }, n * 1000);
          session.timers.add(timer);
        }
        return { kind: 'ack' };
      default:
        return { kind: 'error', reason: `Unknown request ${JSON.stringify(body.request ?? null)}` };
    }
  }

  async handleAdminMessage(request: JsonValue | undefined): Promise<JsonValue> {
    return { sessions: this.sessions.size, echo: request ?? null };
  }

  async setupMedia(): Promise<void> {
    // No media.
  }

  async hangupMedia(): Promise<void> {
    // No media.
  }

  async destroySession(handle: PluginHandle): Promise<void> {
    this.forget(handle.id);
  }

  async querySession(handle: PluginHandle): Promise<JsonObject | undefined> {
    const session = this.sessions.get(handle.id);
    return session ? { greeted: session.greeted, pendingTicks: session.timers.size } : undefined;
  }

  private forget(handleId: number): void {
    const session = this.sessions.get(handleId);
    if (!session) return;
    for (const timer of session.timers) clearTimeout(timer);
    this.sessions.delete(handleId);
  }
}

async function main(): Promise<void> {
  const sfu = createServer({
    listenIp: process.env.HOST ?? '127.0.0.1',
    websocket: { port: Number(process.env.WS_PORT ?? 8188) },
    http: false,
    adminHttp: false,
    adminWebsocket: false,
    metrics: { enabled: false },
    media: { workers: 1, listenIps: [{ ip: '127.0.0.1' }] },
    // Only the greeter; add script paths here to serve both.
    scripts: [new GreeterPlugin()],
  });
  const ports = await sfu.listen();
  console.log(JSON.stringify({ msg: 'greeter listening', ports }));
  const stop = (): void => void sfu.close().then(() => console.log(JSON.stringify({ msg: 'greeter closed' })));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) void main();
