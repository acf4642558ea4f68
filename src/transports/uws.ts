// Small helpers around uWebSockets.js: listening on a host/port and reading back the real
// port, closing an app, and JSON serialisation as Janus writes it.

import * as uws from 'uWebSockets.js';
import type { JsonValue } from '../plugin/json';
import { once } from '../common/once';

/** A bound listener: its real port, and how to close it (with every open connection). */
export interface Listener {
  readonly port: number;
  close(): void;
}

/** `app.close()` exists at runtime in uWS v20.30 but is missing from its typings. */
interface ClosableApp {
  close?: () => void;
}

/**
 * The binary takes `listen(host, port, options, cb)`; the typings only declare the host form
 * without options.
 */
interface ExclusiveListen {
  listen(host: string, port: number, options: number, cb: (socket: uws.us_listen_socket | false) => void): void;
}

/** uWS's listen option (the binary exports the constant; the typings' enum does not exist at runtime). */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

/** A listener could not bind its address (in use, not local, no permission). */
export class ListenError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    /** Why, when known (uWS only says that listening failed). */
    readonly detail = 'port in use or address not available',
  ) {
    super(`cannot listen on ${host}:${port} (${detail})`);
    this.name = 'ListenError';
  }
}

/** A Listener on `port` whose close() runs `close` once, however often it is called. */
export function boundListener(port: number, close: () => void): Listener {
  return { port, close: once(close) };
}

/**
 * Binds exclusively: uWS sets SO_REUSEPORT by default, so a second server on the same port
 * would start and the kernel would split connections between the two processes.
 */
export function listen(app: uws.TemplatedApp, host: string, port: number): Promise<Listener> {
  return new Promise((resolve, reject) => {
    (app as unknown as ExclusiveListen).listen(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
      if (!socket) {
        reject(new ListenError(host, port));
        return;
      }
      const realPort = uws.us_socket_local_port(socket as unknown as uws.us_socket);
      resolve(
        boundListener(realPort, () => {
          uws.us_listen_socket_close(socket);
          // Also drop open connections (keep-alive HTTP, WebSockets) so the process can exit.
          (app as unknown as ClosableApp).close?.();
        }),
      );
    });
  });
}

/** Janus pretty-prints with a 3-space indent by default; clients accept any layout. */
export type JsonLayout = 'indented' | 'plain' | 'compact';

export function serialize(value: JsonValue, layout: JsonLayout = 'indented'): string {
  return layout === 'indented' ? JSON.stringify(value, null, 3) : JSON.stringify(value);
}

export { uws };
