// Typed access to janode (ESM, no typings) from CommonJS tests. The specifier is a variable
// so TypeScript keeps a native dynamic import() and does not look for declarations.

import { register } from 'node:module';
import type { JsonObject } from '../../src/plugin/json';

export interface JanodeHandle {
  id: number;
  message(body: JsonObject, jsep?: JsonObject): Promise<unknown>;
  trickle(candidate: JsonObject): Promise<unknown>;
  trickleComplete(): Promise<unknown>;
  hangup(): Promise<unknown>;
  detach(): Promise<unknown>;
  closeTransactionWithSuccess(transaction: string, data: unknown): void;
  ownsTransaction(transaction: string): boolean;
  on(event: string, listener: (...args: unknown[]) => void): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
}

export type JanodeHandleClass = new (...args: never[]) => JanodeHandle;

export interface JanodeSession {
  id: number;
  attach(descriptor: { id: string; Handle?: unknown }): Promise<JanodeHandle>;
  destroy(): Promise<unknown>;
  once(event: string, listener: (...args: unknown[]) => void): void;
}

export interface JanodeConnection {
  getInfo(): Promise<JsonObject>;
  create(keepaliveSeconds?: number): Promise<JanodeSession>;
  close(): Promise<unknown>;
  listSessions(): Promise<JsonObject>;
  listHandles(sessionId: number): Promise<JsonObject>;
  handleInfo(sessionId: number, handleId: number): Promise<JsonObject>;
}

export interface JanodeModule {
  connect(config: JsonObject): Promise<JanodeConnection>;
  Logger: { setLevel(level: string): void };
}

export interface Janode {
  janode: JanodeModule;
  /** janode's Handle base class (`janode/handle`). */
  Handle: { new (...args: never[]): JanodeHandle };
}

/**
 * janode imports `unix-dgram` (a native addon for its Unix-socket transport, which the
 * install does not build). Tests only use WebSockets, so resolve it to a stub module.
 */
let stubbed = false;
function stubUnixDgram(): void {
  if (stubbed) return;
  stubbed = true;
  const stub = 'export function createSocket() { throw new Error("unix-dgram is not available in tests"); }';
  const hooks = `export async function resolve(specifier, context, next) {
    if (specifier === 'unix-dgram') return { url: ${JSON.stringify(`data:text/javascript,${encodeURIComponent(stub)}`)}, shortCircuit: true };
    return next(specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}

export async function loadJanode(): Promise<Janode> {
  stubUnixDgram();
  const main = 'janode';
  const handle = 'janode/handle';
  const janode = ((await import(main)) as { default: JanodeModule }).default;
  const Handle = ((await import(handle)) as { default: Janode['Handle'] }).default;
  janode.Logger.setLevel('none');
  return { janode, Handle };
}
