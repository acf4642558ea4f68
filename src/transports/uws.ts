// Small helpers around uWebSockets.js: listening on a host/port and reading back the real
// port, closing an app, and JSON serialisation as Janus writes it.

import * as uws from 'uWebSockets.js';
import type { JsonValue } from '../plugin/json';

/** A bound listener: its real port, and how to close it (with every open connection). */
export interface Listener {
  readonly port: number;
  close(): void;
}

/** `app.close()` exists at runtime in uWS v20.30 but is missing from its typings. */
interface ClosableApp {
  close?: () => void;
}

export function listen(app: uws.TemplatedApp, host: string, port: number): Promise<Listener> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (!socket) {
        reject(new Error(`cannot listen on ${host}:${port}`));
        return;
      }
      const realPort = uws.us_socket_local_port(socket as unknown as uws.us_socket);
      let closed = false;
      resolve({
        port: realPort,
        close: () => {
          if (closed) return;
          closed = true;
          uws.us_listen_socket_close(socket);
          // Also drop open connections (keep-alive HTTP, WebSockets) so the process can exit.
          (app as unknown as ClosableApp).close?.();
        },
      });
    });
  });
}

/** Janus pretty-prints with a 3-space indent by default; clients accept any layout. */
export type JsonLayout = 'indented' | 'plain' | 'compact';

export function serialize(value: JsonValue, layout: JsonLayout = 'indented'): string {
  return layout === 'indented' ? JSON.stringify(value, null, 3) : JSON.stringify(value);
}

export { uws };
