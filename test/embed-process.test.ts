// luasfu embedded in a process of its own: the example service (node:http + ws) closes luasfu
// on SIGTERM and then exits by itself (no process.exit) with no mediasoup worker left behind,
// after hanging up a live media session; and the luasfu command reloads its scripts on SIGHUP.

import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '../src/plugin/json';
import { ourLua, ourScript } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { NodePeer, waitUntil } from './support/wrtc-peer';
import { childrenOf } from '../bench/lib/proc';

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'dist', 'examples', 'http-ws-service.js');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const ECHO = 'janus.plugin.echolua';

/** Running (not ended, not a zombie waiting to be reaped) processes among `pids`. */
function stillRunning(pids: number[]): number[] {
  return pids.filter((pid) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')));
}

/** A child process whose stdout and stderr are collected; waits (bounded) for a line. */
class Child {
  output = '';
  readonly exited: Promise<number | null>;

  constructor(readonly proc: ChildProcess) {
    proc.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    proc.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  }

  /** The first JSON line whose msg is `msg` (after `from` lines), waiting at most `timeoutMs`. */
  async line(msg: string, timeoutMs = 20000, from = 0): Promise<JsonObject> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.output.split('\n').slice(from).find((text) => text.includes(`"msg":"${msg}"`));
      if (found) return JSON.parse(found) as JsonObject;
      if (Date.now() > deadline || this.proc.exitCode !== null) throw new Error(`no "${msg}" line; output:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  get lines(): number {
    return this.output.split('\n').length;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

describe('embedding in a process', function () {
  this.timeout(60000);
  let child: Child | undefined;
  let dir: string;
  const peers: NodePeer[] = [];
  const clients: JanusWsClient[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'luasfu-embed-proc-'));
  });

  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.close();
    for (const client of clients.splice(0)) await client.close();
    child?.kill();
    child = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('close(): a live media session is hung up, the WebSockets closed, no worker is left and the process exits by itself', async () => {
    child = new Child(spawn(process.execPath, [EXAMPLE], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] }));
    const listening = await child.line('service listening');
    const client = await JanusWsClient.connect(String(listening.janus));
    clients.push(client);
    const ids = await createAndAttach(client, ECHO);
    const peer = new NodePeer();
    peers.push(peer);
    const offer = await peer.offer();
    await client.request({
      janus: 'message', session_id: ids.sessionId, handle_id: ids.handleId, transaction: 'offer',
      body: { audio: true, video: true }, jsep: { type: offer.type, sdp: offer.sdp },
    });
    const answer = await client.next((m) => m.janus === 'event' && m.transaction === 'offer', 10000);
    await peer.accept({ type: 'answer', sdp: (answer.jsep as JsonObject).sdp as string });
    await waitUntil(() => peer.videoFrames >= 10, 20000, 'echoed video');

    const workers = childrenOf(child.proc.pid!);
    expect(workers.length).to.be.above(0);
    child.proc.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
    expect((await client.closed).code).to.equal(1001);
    expect(child.output).to.include(`"msg":"handle","sessionId":${ids.sessionId},"handleId":${ids.handleId},"name":"detached"`);
    expect(child.output).to.include('"msg":"service closed"');
    expect(stillRunning(workers)).to.deep.equal([]);
  });

  it('the luasfu command reloads its scripts on SIGHUP and keeps the old one when the new one fails', async () => {
    const script = join(dir, 'echotest.lua');
    const original = readFileSync(ourScript('echotest.lua'), 'utf8');
    writeFileSync(script, original);
    child = new Child(spawn(process.execPath, [
      CLI, '--script', script, '--listen-ip', '127.0.0.1', '--rtc-ip', '127.0.0.1', '--http-port', '0', '--ws-port', '0',
      '--admin-http-port', '0', '--admin-ws-port', '0', '--metrics-port', '0', '--workers', '1',
    ], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const listening = await child.line('luasfu listening');
    const client = await JanusWsClient.connect(`ws://127.0.0.1:${String(listening.websocket)}`);
    clients.push(client);
    const versionOf = async (): Promise<unknown> => (((await client.request({ janus: 'info' })).plugins as JsonObject)[ECHO] as JsonObject).version_string;
    expect(await versionOf()).to.equal('0.1.0');

    writeFileSync(script, original.replace('function getVersionString() return "0.1.0" end', 'function getVersionString() return "0.3.0" end'));
    let from = child.lines - 1;
    child.proc.kill('SIGHUP');
    const reloaded = await child.line('script reloaded', 20000, from);
    expect(reloaded).to.include({ plugin: ECHO, script });
    expect(await versionOf()).to.equal('0.3.0');

    writeFileSync(script, readFileSync(ourLua('syntax-error.lua'), 'utf8'));
    from = child.lines - 1;
    child.proc.kill('SIGHUP');
    const failed = await child.line('script reload failed; the previous version keeps running', 20000, from);
    expect(failed).to.include({ level: 'error', plugin: ECHO, script });
    expect(await versionOf()).to.equal('0.3.0');
    const ids = await createAndAttach(client, ECHO);
    const reply = await client.request({ janus: 'message', session_id: ids.sessionId, handle_id: ids.handleId, body: {} });
    expect((reply.plugindata as JsonObject).data).to.deep.equal({ echotest: 'response', result: 'ok' });

    child.proc.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
  });
});
