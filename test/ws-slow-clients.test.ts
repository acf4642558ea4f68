// Slow WebSocket clients: a client that stops reading while its replies keep coming is closed
// (with a log line) once its queue passes the per-connection cap, or the largest queue when
// all together pass the budget, so the server's RSS stays bounded. Also the caps on sessions
// per connection and handles per session, with a Janus error reply.

import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { JsonObject } from '../src/plugin/json';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { TEST_PLUGIN_PACKAGE } from './support/test-plugin';
import { type TestServer, startTestServer } from './support/test-server';

const SERVER = join(__dirname, 'support', 'slow-reader-server.js');
const MiB = 1024 * 1024;

/** A /proc/<pid>/status field in KiB (VmRSS now, VmHWM the peak). */
function procKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]);
}

async function startServer(config: JsonObject): Promise<{ proc: ChildProcess; ws: string; log: () => string }> {
  const proc = spawn(process.execPath, ['--expose-gc', SERVER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let log = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  proc.stderr!.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
  });
  const deadline = Date.now() + 20000;
  while (!out.includes('\n')) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`server did not start: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { proc, ws: (JSON.parse(out.split('\n')[0]!) as { ws: string }).ws, log: () => log };
}

describe('websocket: slow clients and per-connection caps', function () {
  this.timeout(90000);

  describe('slow readers', () => {
    let proc: ChildProcess | undefined;
    const clients: JanusWsClient[] = [];

    afterEach(async () => {
      for (const client of clients.splice(0)) client.socket.terminate();
      if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    });

    it('closes eight clients that stop reading 48 KiB replies, and RSS stays bounded', async () => {
      const server = await startServer({
        maxBufferedBytesPerConnection: 2 * MiB, maxBufferedBytesTotal: 8 * MiB, maxRequestsPerSecond: 100000,
        sessionTimeout: 0,
      });
      proc = server.proc;
      const pid = proc.pid!;
      const pad = 'x'.repeat(48 * 1024);
      const sessions = [];
      for (let i = 0; i < 8; i++) {
        const client = await JanusWsClient.connect(server.ws);
        clients.push(client);
        sessions.push({ client, ...(await createAndAttach(client, TEST_PLUGIN_PACKAGE)) });
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const baseline = procKb(pid, 'VmRSS');
      // Every client stops reading, then asks for 600 replies of ~48 KiB (~28 MiB each, far
      // more than the kernel's socket buffers hold).
      for (const { client } of sessions) (client.socket as unknown as { _socket: Socket })._socket.pause();
      for (let round = 0; round < 600; round++) {
        for (const { client, sessionId, handleId } of sessions) {
          if (client.socket.readyState !== client.socket.OPEN) continue;
          client.send({ janus: 'message', session_id: sessionId, handle_id: handleId, transaction: `s${round}`, body: { request: 'sync', pad } });
        }
        if (round % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 5));
        if ((server.log().match(/slow websocket client/g) ?? []).length >= 8) break;
      }
      const deadline = Date.now() + 20000;
      while ((server.log().match(/slow websocket client/g) ?? []).length < 8 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const closures = server.log().split('\n').filter((line) => line.includes('slow websocket client'));
      expect(closures, server.log()).to.have.length(8);
      const peakGrowthMiB = (procKb(pid, 'VmHWM') - baseline) / 1024;
      // Eight queues of at most 2 MiB, 8 MiB together, plus V8's heap for the JSON in flight
      // (measured: ~85 MiB). With 16 MiB per connection and no budget: ~320 MiB.
      expect(peakGrowthMiB, `peak RSS growth ${peakGrowthMiB.toFixed(1)} MiB; ${closures[0]}`).to.be.below(140);
      expect(closures[0]).to.match(/"why":"\d+ bytes queued/);
    });
  });

  describe('caps', () => {
    let ts: TestServer;
    before(async () => {
      ts = await startTestServer({ config: { maxSessionsPerConnection: 2, maxHandlesPerSession: 3 } });
    });
    after(async () => ts?.close());

    it('refuses a session beyond maxSessionsPerConnection and a handle beyond maxHandlesPerSession with error 490', async () => {
      const client = await JanusWsClient.connect(ts.urls.ws);
      try {
        const first = await client.request({ janus: 'create' });
        await client.request({ janus: 'create' });
        const third = await client.request({ janus: 'create' });
        expect(third.janus).to.equal('error');
        expect(third.error).to.deep.equal({ code: 490, reason: 'Too many sessions on this connection (at most 2)' });
        // Another connection has its own allowance.
        const other = await JanusWsClient.connect(ts.urls.ws);
        expect((await other.request({ janus: 'create' })).janus).to.equal('success');
        await other.close();

        const sessionId = (first.data as JsonObject).id as number;
        for (let i = 0; i < 3; i++) {
          expect((await client.request({ janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE })).janus).to.equal('success');
        }
        const fourth = await client.request({ janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE });
        expect(fourth.janus).to.equal('error');
        expect(fourth.error).to.deep.equal({ code: 490, reason: 'Too many handles in this session (at most 3)' });
      } finally {
        await client.close();
      }
    });
  });
});
