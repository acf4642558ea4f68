// /ready while a script restarts: a script whose worker hangs is terminated and started again;
// meanwhile /ready answers 503 naming it, then 200 again. Script errors and restarts are counted.

import { expect } from 'chai';
import type { JsonObject } from '../src/plugin/json';
import { silentLogger } from '../src/log';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourLua } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { sampleValue, scrape } from './support/prometheus';
import { type TestServer, startTestServer, testConfig } from './support/test-server';

async function ready(port: number): Promise<{ status: number; body: JsonObject }> {
  const response = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: (await response.json()) as JsonObject };
}

describe('ops: /ready and script failures', function () {
  this.timeout(30_000);
  let ts: TestServer;
  let client: JanusWsClient | undefined;
  let port: number;
  const hang = ourLua('hang-pkg.lua');
  const broken = ourLua('error-in-handle-pkg.lua');

  before(async () => {
    const limits = { instructionLimit: 1_000_000, memoryLimitMb: 256 };
    ts = await startTestServer({
      plugins: [
        createLuaPlugin({ path: hang, ...limits }, silentLogger(), { taskTimeoutMs: 1000 }),
        createLuaPlugin({ path: broken, ...limits }, silentLogger()),
      ],
      config: { metrics: { ...testConfig().metrics, enabled: true } },
    });
    port = ts.server.ports.metrics!;
    client = await JanusWsClient.connect(ts.urls.ws);
  });

  after(async () => {
    await client?.close();
    await ts?.close();
  });

  it('counts a script error by script and callback', async () => {
    const { sessionId, handleId } = await createAndAttach(client!, 'janus.plugin.brokenlua');
    const reply = await client!.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'raise' } });
    expect((reply.error as JsonObject).code).to.equal(462);
    const samples = await scrape(port);
    expect(sampleValue(samples, 'luasfu_script_errors_total', { script: broken, callback: 'handleMessage' })).to.equal(1);
    expect(sampleValue(samples, 'luasfu_janus_requests_total', { api: 'janus', verb: 'message', error_code: '462' })).to.equal(1);
  });

  it('answers 503 naming the script while it restarts after its worker hung, then 200', async () => {
    expect(await ready(port)).to.deep.equal({ status: 200, body: { ready: true } });
    const { sessionId, handleId } = await createAndAttach(client!, 'janus.plugin.hanglua');
    client!.send({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'hang' }, transaction: 'hang' });
    const seen: Array<{ status: number; body: JsonObject }> = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const answer = await ready(port);
      seen.push(answer);
      if (answer.status === 200 && seen.some((a) => a.status === 503)) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const notReady = seen.filter((a) => a.status === 503);
    expect(notReady, 'a 503 while the script restarted').to.not.have.length(0);
    const reasons = notReady[0]!.body.reasons as string[];
    expect(reasons).to.have.length(1);
    expect(reasons[0]).to.match(/^script .*hang-pkg\.lua is restarting \(worker hung/);
    expect(seen[seen.length - 1]).to.deep.equal({ status: 200, body: { ready: true } });
    const samples = await scrape(port);
    expect(sampleValue(samples, 'luasfu_script_restarts_total', { script: hang })).to.equal(1);
    expect(sampleValue(samples, 'luasfu_script_restarts_total', { script: broken })).to.equal(0);
  });

  it('is not ready while the Admin API refuses new sessions', async () => {
    ts.server.core.acceptingNewSessions = false;
    try {
      expect(await ready(port)).to.deep.equal({
        status: 503, body: { ready: false, reasons: ['not accepting new sessions (Admin accept_new_sessions)'] },
      });
    } finally {
      ts.server.core.acceptingNewSessions = true;
    }
  });
});
