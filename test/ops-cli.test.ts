// The luasfu command in production dress: TLS from flags with the certificate reloaded on
// SIGHUP, the ops listener's /health, and pretty logs on stderr.

import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { makeCertificate } from './support/certificates';

const CLI = join(__dirname, '..', 'src', 'cli.js');

function fingerprint(port: number, ca: Buffer[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost', timeout: 5000 }, () => {
      const served = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(served);
    });
    socket.on('error', reject);
  });
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the luasfu command with TLS, SIGHUP and the ops listener', function () {
  this.timeout(40_000);
  let dir: string;
  let child: ChildProcess | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'luasfu-ops-cli-'));
  });
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves https, reloads the certificate on SIGHUP, answers /health, and logs pretty lines', async () => {
    const first = makeCertificate(join(dir, 'cert.pem'), join(dir, 'key.pem'), 'cli-first');
    const args = [
      CLI, '--listen-ip', '127.0.0.1', '--rtc-ip', '127.0.0.1', '--http-port', '0', '--ws-port', '0',
      '--admin-http-port', '0', '--admin-ws-port', '0', '--metrics-port', '0', '--workers', '1',
      '--tls-cert', first.certFile, '--tls-key', first.keyFile, '--log-format', 'pretty',
    ];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    child = proc;
    let log = '';
    proc.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
    });
    await waitFor(() => log.includes('luasfu listening') || proc.exitCode !== null, 'the start');
    const line = log.split('\n').find((l) => l.includes('luasfu listening'))!;
    // pino-pretty: "[time] INFO: msg {fields}", no colour with NO_COLOR.
    expect(line).to.match(/^\[[\d-]+ [\d:.]+\] INFO: luasfu listening \{/);
    expect(line).to.not.include('\u001b[');
    const fields = JSON.parse(line.slice(line.indexOf('{'))) as Record<string, number> & Record<'api' | 'ops', string[]>;
    expect(fields.metrics).to.be.a('number');
    expect(fields.api).to.deep.equal([`https://127.0.0.1:${fields.http}/janus`, `wss://127.0.0.1:${fields.websocket}`]);
    expect(fields.ops).to.deep.equal([`http://127.0.0.1:${fields.metrics}/metrics`]);

    const health = await fetch(`http://127.0.0.1:${fields.metrics}/health`, { signal: AbortSignal.timeout(5000) });
    expect(health.status).to.equal(200);
    expect(await fingerprint(fields.websocket!, [first.cert])).to.equal(first.fingerprint256);

    const second = makeCertificate(first.certFile, first.keyFile, 'cli-second');
    proc.kill('SIGHUP');
    await waitFor(() => log.includes('TLS certificate and key reloaded'), 'the reload');
    expect(await fingerprint(fields.http!, [second.cert])).to.equal(second.fingerprint256);
    expect(await fingerprint(fields.websocket!, [second.cert])).to.equal(second.fingerprint256);
    expect(proc.exitCode).to.equal(null);

    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).to.equal(0);
  });
});
