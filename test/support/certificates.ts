// Self-signed test certificates made with Debian's openssl (scripts/test-setup.mjs installs it):
// valid for 127.0.0.1 and localhost, so a verifying client accepts them given the certificate.

import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface TestCertificate {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  /** SHA-256 fingerprint, as node:tls reports a peer certificate's `fingerprint256`. */
  fingerprint256: string;
}

/** Writes a new key and certificate (CN `name`) to the given paths, replacing what is there. */
export function makeCertificate(certFile: string, keyFile: string, name: string): TestCertificate {
  const result = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { encoding: 'utf8', timeout: 30_000 });
  if (result.error) throw new Error(`openssl not runnable (run node scripts/test-setup.mjs): ${result.error.message}`);
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  const cert = readFileSync(certFile);
  return { certFile, keyFile, cert, fingerprint256: new X509Certificate(cert).fingerprint256 };
}
