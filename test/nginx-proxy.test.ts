// The Janus API through Debian's nginx (installed by scripts/test-setup.mjs), started here in
// the foreground on 127.0.0.1 with a temporary prefix: a plain server block with nginx's
// default proxy_pass settings (HTTP/1.0 upstream) plus the usual WebSocket upgrade headers,
// and the README's TLS example verbatim (ports and certificate substituted).

import { expect } from 'chai';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type AddressInfo, connect as netConnect, createServer as netCreateServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { JsonObject, JsonValue } from '../src/plugin/json';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { type TestServer, startTestServer } from './support/test-server';

const NGINX = '/usr/sbin/nginx';
const README = join(__dirname, '..', '..', 'README.md');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = netCreateServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The README's nginx TLS example (the ```nginx block after its marker). */
function readmeNginxExample(): string {
  const text = readFileSync(README, 'utf8');
  const marker = text.indexOf('<!-- nginx-tls-example (tested) -->');
  expect(marker).to.be.greaterThan(0);
  const start = text.indexOf('```nginx\n', marker) + '```nginx\n'.length;
  const end = text.indexOf('```', start);
  return text.slice(start, end);
}

/** Replaces `from` (which must occur exactly once) by `to`. */
function substitute(text: string, from: string, to: string): string {
  expect(text.split(from).length - 1, from).to.equal(1);
  return text.replace(from, to);
}

interface Reply {
  status: number;
  body: JsonValue | undefined;
}

function call(url: string, method: string, body: JsonValue | undefined, ca?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method, agent: false, timeout: 10000, ...(ca ? { ca } : {}) }, (res) => {
      let data = '';
      res.on('data', (chunk: Buffer) => { data += chunk.toString('utf8'); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data ? (JSON.parse(data) as JsonValue) : undefined }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    if (body !== undefined) req.setHeader('Content-Type', 'application/json');
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A minimal Janus WebSocket client with request/next, bounded waits. */
class WsPeer {
  readonly received: JsonObject[] = [];
  private counter = 0;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.received.push(JSON.parse(data.toString()) as JsonObject));
  }

  static open(url: string, ca?: string): Promise<WsPeer> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, 'janus-protocol', ca ? { ca } : {});
      socket.once('open', () => resolve(new WsPeer(socket)));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
    });
  }

  async next(predicate: (m: JsonObject) => boolean, timeoutMs = 5000): Promise<JsonObject> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex(predicate);
      if (index >= 0) return this.received.splice(index, 1)[0] as JsonObject;
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.received)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  request(message: JsonObject): Promise<JsonObject> {
    const transaction = `w${++this.counter}`;
    this.socket.send(JSON.stringify({ ...message, transaction }));
    return this.next((m) => m.transaction === transaction && m.janus !== 'event');
  }

  close(): void {
    this.socket.close();
  }
}

async function driveHttp(base: string, ca?: string): Promise<void> {
  const info = await call(`${base}/info`, 'GET', undefined, ca);
  expect(info.status).to.equal(200);
  expect((info.body as JsonObject).janus).to.equal('server_info');
  const created = await call(base, 'POST', { janus: 'create', transaction: 'c' }, ca);
  const sessionId = ((created.body as JsonObject).data as JsonObject).id as number;
  const attached = await call(`${base}/${sessionId}`, 'POST', { janus: 'attach', plugin: TEST_PLUGIN_PACKAGE, transaction: 'a' }, ca);
  const handleId = ((attached.body as JsonObject).data as JsonObject).id as number;
  const ack = await call(`${base}/${sessionId}/${handleId}`, 'POST', { janus: 'message', body: { request: 'async' }, transaction: 'm' }, ca);
  expect((ack.body as JsonObject).janus).to.equal('ack');
  const poll = await call(`${base}/${sessionId}?maxev=5`, 'GET', undefined, ca);
  expect(poll.status).to.equal(200);
  const events = poll.body as JsonObject[];
  expect(events.some((m) => m.janus === 'event' && m.transaction === 'm' && m.sender === handleId)).to.equal(true);
  const destroyed = await call(`${base}/${sessionId}`, 'POST', { janus: 'destroy', transaction: 'd' }, ca);
  expect((destroyed.body as JsonObject).janus).to.equal('success');
}

async function driveWs(url: string, httpBase: string, ca?: string): Promise<void> {
  const peer = await WsPeer.open(url, ca);
  try {
    const created = await peer.request({ janus: 'create' });
    const sessionId = (created.data as JsonObject).id as number;
    const attached = await peer.request({ janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE });
    const handleId = (attached.data as JsonObject).id as number;
    const sync = await peer.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync' } });
    expect(sync.janus).to.equal('success');
    const ack = await peer.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'async' } });
    expect(ack.janus).to.equal('ack');
    await peer.next((m) => m.janus === 'event' && m.sender === handleId);
    // Through the proxy too, the WebSocket session is not reachable over HTTP.
    const foreign = await call(`${httpBase}/${sessionId}`, 'POST', { janus: 'keepalive', transaction: 'k' }, ca);
    expect(((foreign.body as JsonObject).error as JsonObject).code).to.equal(458);
  } finally {
    peer.close();
  }
}

describe('Janus API behind nginx', function () {
  this.timeout(60000);
  let ts: TestServer;
  let nginx: ChildProcess | undefined;
  let dir: string;
  let plainPort: number;
  let tlsPort: number;
  let cert: string;
  let nginxLog = '';

  before(async function () {
    if (!existsSync(NGINX)) throw new Error(`${NGINX} missing: run node scripts/test-setup.mjs`);
    ts = await startTestServer({ plugins: [new TestPlugin()], longPollHoldMs: 2000 });
    dir = mkdtempSync(join(tmpdir(), 'luasfu-nginx-'));
    for (const sub of ['logs', 'temp']) mkdirSync(join(dir, sub));
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore', timeout: 30000 });
    cert = readFileSync(certFile, 'utf8');
    plainPort = await freePort();
    tlsPort = await freePort();

    let example = readmeNginxExample();
    example = substitute(example, 'listen 443 ssl;', `listen 127.0.0.1:${tlsPort} ssl;`);
    example = substitute(example, '/etc/ssl/luasfu/fullchain.pem', certFile);
    example = substitute(example, '/etc/ssl/luasfu/privkey.pem', keyFile);
    example = substitute(example, 'http://127.0.0.1:8088', `http://127.0.0.1:${ts.ports.http}`);
    example = substitute(example, 'http://127.0.0.1:8188', `http://127.0.0.1:${ts.ports.websocket}`);
    const temp = join(dir, 'temp');
    const conf = `
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} info;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
${example}
  # nginx's default proxy settings for HTTP (HTTP/1.0 upstream, Host: $proxy_host) and the
  # standard WebSocket upgrade headers.
  server {
    listen 127.0.0.1:${plainPort};
    location /janus { proxy_pass http://127.0.0.1:${ts.ports.http}; }
    location /ws {
      proxy_pass http://127.0.0.1:${ts.ports.websocket};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }
  }
}
`;
    writeFileSync(join(dir, 'nginx.conf'), conf);
    // Foreground, single process (no privilege drop: the temp prefix is root's).
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log'), '-g', 'daemon off; master_process off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    nginx.stderr!.on('data', (chunk: Buffer) => { nginxLog += chunk.toString(); });
    try {
      await waitForPort(plainPort, 15000);
      await waitForPort(tlsPort, 5000);
    } catch (error) {
      const log = existsSync(join(dir, 'logs', 'error.log')) ? readFileSync(join(dir, 'logs', 'error.log'), 'utf8') : '';
      throw new Error(`nginx did not start: ${(error as Error).message}\n${nginxLog}\n${log}`);
    }
  });

  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (nginx.exitCode === null) nginx.kill('SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    await ts?.close();
  });

  it('drives the Janus API over HTTP with nginx\'s default proxy settings (HTTP/1.0 upstream)', async () => {
    await driveHttp(`http://127.0.0.1:${plainPort}/janus`);
  });

  it('drives the Janus API over WebSocket through nginx', async () => {
    await driveWs(`ws://127.0.0.1:${plainPort}/ws`, `http://127.0.0.1:${plainPort}/janus`);
  });

  it('terminates TLS for HTTP and WebSocket with the README\'s example', async () => {
    await driveHttp(`https://127.0.0.1:${tlsPort}/janus`, cert);
    await driveWs(`wss://127.0.0.1:${tlsPort}/ws`, `https://127.0.0.1:${tlsPort}/janus`, cert);
  });
});
