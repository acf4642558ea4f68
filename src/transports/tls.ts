// TLS for the Janus API and Admin API listeners (https://, wss://): the configured certificate
// and key, checked by node:tls when loaded (so a bad pair fails the start or the reload with a
// clear error instead of half-working), and reloaded from the same files on request (SIGHUP).
// Listeners subscribe and swap their TLS state; connections already open keep theirs.

import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { TlsConfig } from '../config';
import { NamedError } from '../common/named-error';

/** The certificate and key could not be read or do not form a usable pair. */
export class TlsLoadError extends NamedError {}

/** What a listener needs: the PEM contents (node:https) and the file names (uWS reads them itself). */
export interface TlsMaterial {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly passphrase?: string;
}

export interface TlsSourceEvents {
  /** New material was loaded; listeners swap to it. */
  reload: [TlsMaterial];
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new TlsLoadError(`cannot read the TLS ${what} ${path}: ${(error as Error).message}`);
  }
}

/** Reads the files and checks them with node:tls (PEM syntax, passphrase, key matching the certificate). */
export function loadTlsMaterial(config: TlsConfig): TlsMaterial {
  const cert = read(config.certFile, 'certificate');
  const key = read(config.keyFile, 'key');
  try {
    createSecureContext({ cert, key, passphrase: config.passphrase });
  } catch (error) {
    throw new TlsLoadError(`TLS certificate ${config.certFile} and key ${config.keyFile} are not usable: ${(error as Error).message}`);
  }
  return { certFile: config.certFile, keyFile: config.keyFile, cert, key, passphrase: config.passphrase };
}

/** What node:tls / node:https take. */
export function secureContextOptions(material: TlsMaterial): { cert: Buffer; key: Buffer; passphrase?: string } {
  return { cert: material.cert, key: material.key, passphrase: material.passphrase };
}

export class TlsSource {
  readonly events = new EventEmitter<TlsSourceEvents>();
  private material: TlsMaterial;

  /** Loads the files now; throws TlsLoadError. */
  constructor(private readonly config: TlsConfig) {
    this.material = loadTlsMaterial(config);
  }

  get current(): TlsMaterial {
    return this.material;
  }

  /** Loads the same files again; on failure throws TlsLoadError and keeps serving the previous pair. */
  reload(): TlsMaterial {
    this.material = loadTlsMaterial(this.config);
    this.events.emit('reload', this.material);
    return this.material;
  }
}
