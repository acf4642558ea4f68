// A uWS listener built from a routes function: on a plain App, or on an SSLApp with the TLS
// source's files. uWS cannot swap the certificate of a listening app, and cannot bind a new
// app to the port while connections are open, so a TLS reload goes through SNI instead: after
// a reload, each server name a client asks for is added with the new files (and the routes
// registered for it), so new handshakes get the new certificate while open connections keep
// theirs. Clients that send no server name (connecting by IP address) keep getting the
// certificate the listener started with, until a restart.

import type { Logger } from '../log';
import type { TlsMaterial, TlsSource } from './tls';
import { type Listener, listen, uws } from './uws';

export interface UwsListenOptions {
  host: string;
  port: number;
  /** Absent = plain (http://, ws://). */
  tls?: TlsSource;
  logger: Logger;
}

/** Server names one listener adds after reloads; more are served the start-up certificate (a bound on memory and file reads). */
const MAX_SERVER_NAMES = 64;

function sslOptions(material: TlsMaterial): uws.AppOptions {
  return { cert_file_name: material.certFile, key_file_name: material.keyFile, passphrase: material.passphrase };
}

export async function listenUws(options: UwsListenOptions, routes: (app: uws.TemplatedApp) => void): Promise<Listener> {
  const { tls, logger } = options;
  const app = tls ? uws.SSLApp(sslOptions(tls.current)) : uws.App();
  routes(app);
  const listener = await listen(app, options.host, options.port);
  if (!tls) return listener;

  /** The pair loaded by the last reload; undefined until one happens. */
  let reloaded: TlsMaterial | undefined;
  const names = new Set<string>();
  let warned = false;
  app.missingServerName((hostname) => {
    if (!reloaded) return;
    if (names.size >= MAX_SERVER_NAMES) {
      if (!warned) logger.warn('TLS: too many server names since the reload; serving the start-up certificate', { port: listener.port });
      warned = true;
      return;
    }
    names.add(hostname);
    app.addServerName(hostname, sslOptions(reloaded));
    // A server name has its own routes in uWS.
    routes(app.domain(hostname));
  });
  const onReload = (material: TlsMaterial): void => {
    for (const hostname of names) app.removeServerName(hostname);
    names.clear();
    warned = false;
    reloaded = material;
    logger.info('TLS certificate reloaded', { port: listener.port });
  };
  tls.events.on('reload', onReload);
  return {
    port: listener.port,
    close: () => {
      tls.events.off('reload', onReload);
      listener.close();
    },
  };
}
