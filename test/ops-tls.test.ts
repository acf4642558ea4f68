// TLS on the Janus API and Admin API listeners: a client that verifies the test certificate
// reaches `info` over https and wss; plain clients and clients that do not trust it are
// refused; the same files are reloaded (new connections get the new certificate, open ones
// keep working) and a broken pair is refused on reload while the old one keeps serving.

import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import WebSocket, { type ClientOptions } from 'ws';
import type { JsonObject } from '../src/plugin/json';
import { TlsLoadError } from '../src/transports/tls';
import { TEST_ADMIN_SECRET, type TestServer, startTestServer } from './support/test-server';
import { type TestCertificate, makeCertificate } from './support/certificates';

/** Clients connect to 127.0.0.1, by default with the server name "localhost" (SNI), as a browser would by name. */
const NAME = 'localhost';

function httpsJson(port: number, path: string, ca: Buffer[], body?: JsonObject): Promise<{ status: number; json: JsonObject }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      // No agent: a cached TLS session would resume with the certificate it was made with.
      { host: '127.0.0.1', servername: NAME, port, path, method: body ? 'POST' : 'GET', ca, timeout: 5000, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) as JsonObject }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** Opens a wss:// connection with `protocol`, trusting `ca`. */
function wss(port: number, protocol: string, ca: Buffer[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const tlsOptions: ClientOptions & ConnectionOptions = { ca, servername: NAME, handshakeTimeout: 5000 };
    const socket = new WebSocket(`wss://127.0.0.1:${port}`, protocol, tlsOptions);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function ask(socket: WebSocket, message: JsonObject): Promise<JsonObject> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply')), 5000);
    socket.once('message', (data) => {
      clearTimeout(timer);
      resolve(JSON.parse(data.toString()) as JsonObject);
    });
    socket.send(JSON.stringify(message));
  });
}

/** The fingerprint of the certificate a verifying TLS client gets now, with or without SNI. */
function servedFingerprint(port: number, ca: Buffer[], sni = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: sni ? NAME : '', timeout: 5000 }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

describe('ops: TLS on the Janus and Admin APIs', function () {
  this.timeout(30_000);
  let dir: string;
  let first: TestCertificate;
  let ts: TestServer;
  const sockets: WebSocket[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luasfu-tls-'));
    first = makeCertificate(join(dir, 'cert.pem'), join(dir, 'key.pem'), 'luasfu-test-first');
    ts = await startTestServer({ config: { tls: { certFile: first.certFile, keyFile: first.keyFile } } });
  });

  after(async () => {
    for (const socket of sockets) socket.terminate();
    await ts?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers info over https (Janus API and Admin API) to a client that verifies the certificate', async () => {
    const info = await httpsJson(ts.ports.http, '/janus/info', [first.cert]);
    expect(info.status).to.equal(200);
    expect(info.json.janus).to.equal('server_info');
    const admin = await httpsJson(ts.ports.adminHttp, '/admin', [first.cert], { janus: 'info', transaction: 'a1' });
    expect(admin.json).to.include({ janus: 'server_info', transaction: 'a1' });
    const status = await httpsJson(ts.ports.adminHttp, '/admin', [first.cert], { janus: 'get_status', transaction: 'a2', admin_secret: TEST_ADMIN_SECRET });
    expect(status.json.janus).to.equal('success');
  });

  it('answers info over wss (Janus API and Admin API)', async () => {
    const socket = await wss(ts.ports.websocket, 'janus-protocol', [first.cert]);
    sockets.push(socket);
    expect(await ask(socket, { janus: 'info', transaction: 'w1' })).to.include({ janus: 'server_info', transaction: 'w1' });
    const admin = await wss(ts.ports.adminWebsocket, 'janus-admin-protocol', [first.cert]);
    sockets.push(admin);
    expect(await ask(admin, { janus: 'info', transaction: 'w2' })).to.include({ janus: 'server_info', transaction: 'w2' });
  });

  it('refuses plain http and ws clients, and clients that do not trust the certificate', async () => {
    let plainError: unknown;
    await fetch(`http://127.0.0.1:${ts.ports.http}/janus/info`, { signal: AbortSignal.timeout(5000) }).then(
      (response) => (plainError = new Error(`plain HTTP answered ${response.status}`)),
      (error: unknown) => (plainError = error),
    );
    expect(String((plainError as Error).message)).to.not.match(/plain HTTP answered/);
    const plainWs = new WebSocket(`ws://127.0.0.1:${ts.ports.websocket}`, 'janus-protocol', { handshakeTimeout: 5000 });
    const wsOutcome = await new Promise<string>((resolve) => {
      plainWs.once('open', () => resolve('open'));
      plainWs.once('error', (error) => resolve(`error: ${error.message}`));
    });
    plainWs.terminate();
    expect(wsOutcome).to.match(/^error/);
    let untrusted: Error | undefined;
    await httpsJson(ts.ports.http, '/janus/info', []).catch((error: Error) => (untrusted = error));
    expect(untrusted?.message).to.match(/self-signed certificate/);
  });

  it('reloads the same files: new connections get the new certificate, open ones keep working', async () => {
    const open = await wss(ts.ports.websocket, 'janus-protocol', [first.cert]);
    sockets.push(open);
    expect(await servedFingerprint(ts.ports.websocket, [first.cert])).to.equal(first.fingerprint256);
    const second = makeCertificate(first.certFile, first.keyFile, 'luasfu-test-second');
    expect(second.fingerprint256).to.not.equal(first.fingerprint256);
    expect(ts.server.reloadTls()).to.equal(true);
    const ports = [ts.ports.http, ts.ports.websocket, ts.ports.adminHttp, ts.ports.adminWebsocket];
    for (const port of ports) expect(await servedFingerprint(port, [first.cert, second.cert])).to.equal(second.fingerprint256);
    expect((await httpsJson(ts.ports.http, '/janus/info', [second.cert])).json.janus).to.equal('server_info');
    const fresh = await wss(ts.ports.websocket, 'janus-protocol', [second.cert]);
    sockets.push(fresh);
    expect(await ask(fresh, { janus: 'info', transaction: 'fresh' })).to.include({ janus: 'server_info', transaction: 'fresh' });
    const admin = await httpsJson(ts.ports.adminHttp, '/admin', [second.cert], { janus: 'info', transaction: 'a3' });
    expect(admin.json).to.include({ janus: 'server_info', transaction: 'a3' });
    // The connection opened before the reload still talks.
    expect(await ask(open, { janus: 'info', transaction: 'after' })).to.include({ janus: 'server_info', transaction: 'after' });
    // The HTTP listeners (node:https) swap in place, for every client; the WebSocket ones (uWS)
    // by server name: without SNI, the start-up certificate (the documented limit).
    expect(await servedFingerprint(ts.ports.http, [second.cert], false)).to.equal(second.fingerprint256);
    expect(await servedFingerprint(ts.ports.websocket, [first.cert], false)).to.equal(first.fingerprint256);

    // A second reload replaces the names added after the first.
    const third = makeCertificate(first.certFile, first.keyFile, 'luasfu-test-third');
    ts.server.reloadTls();
    for (const port of ports) expect(await servedFingerprint(port, [second.cert, third.cert])).to.equal(third.fingerprint256);

    // A broken key: the reload is refused and the current certificate keeps serving.
    writeFileSync(first.keyFile, 'not a key');
    expect(() => ts.server.reloadTls()).to.throw(TlsLoadError, /not usable/);
    expect(await servedFingerprint(ts.ports.websocket, [third.cert])).to.equal(third.fingerprint256);
  });
});
