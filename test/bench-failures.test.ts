// luasfu-bench fails loudly and quickly: nothing listening (WebSocket and HTTP), a missing
// plugin, a plugin whose replies are errors, a wrong --server-pid, bad usage. Each exits
// non-zero within seconds with one line saying why, and prints no figures. Ctrl-C stops a run
// cleanly: it reports what it measured, exits 130, and leaves no session on the server.

import { expect } from 'chai';
import { join, resolve } from 'node:path';
import { parseOptions } from '../bench/lib/options';
import { type Scenario, runScenario } from '../bench/lib/run';
import { Tally } from '../bench/lib/stats';
import type { JsonObject } from '../src/plugin/json';
import { type BenchRun, runBench } from './support/bench-cli';
import { type LuasfuProcess, freePort, startLuasfuProcess } from './support/luasfu-process';

const ROOT = resolve(__dirname, '..', '..');
const FIXTURES_LUA = join(ROOT, 'test', 'fixtures', 'lua');

/** The run failed with exit 1, quickly, one reason line last on stderr and nothing on stdout. */
function failedFast(run: BenchRun, reason: RegExp): void {
  expect(run.code, `stderr: ${run.stderr}`).to.equal(1);
  expect(run.ms).to.be.below(8000);
  const lines = run.stderr.trim().split('\n');
  expect(lines[lines.length - 1]).to.match(/^luasfu-bench: /).and.to.match(reason);
}

describe('luasfu-bench failures', function () {
  this.timeout(60_000);
  let server: LuasfuProcess;

  before(async () => {
    server = await startLuasfuProcess([
      { path: join(ROOT, 'lua', 'echotest.lua') },
      { path: join(FIXTURES_LUA, 'error-in-handle-pkg.lua'), modulesPath: FIXTURES_LUA },
    ]);
  });

  after(async () => {
    await server?.stop();
  });

  it('nothing listening (WebSocket): exit 1 within seconds, one line', async () => {
    const port = await freePort();
    const run = await runBench(['api', '--url', `ws://127.0.0.1:${port}`, '--json'], 20_000);
    failedFast(run, /cannot connect to ws:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect(run.stdout).to.equal('');
  });

  it('nothing listening (HTTP): exit 1 within seconds, one line', async () => {
    const port = await freePort();
    const run = await runBench(['echo', '--url', `http://127.0.0.1:${port}/janus`], 20_000);
    failedFast(run, /cannot reach http:\/\/127\.0\.0\.1:\d+\/janus: ECONNREFUSED/);
    expect(run.stdout).to.equal('');
  });

  it('a server stopped underneath: exit 1 within seconds', async () => {
    const stopped = await startLuasfuProcess([{ path: join(ROOT, 'lua', 'echotest.lua') }]);
    await stopped.stop();
    const run = await runBench(['churn', '--url', stopped.urls.ws, '--cycles', '10'], 20_000);
    failedFast(run, /ECONNREFUSED/);
  });

  it('a missing plugin: exit 1 with the attach error', async () => {
    const run = await runBench(['api', '--url', server.urls.ws, '--plugin', 'janus.plugin.nosuch'], 20_000);
    failedFast(run, /attach to janus\.plugin\.nosuch at .*: error 460/);
  });

  it('a plugin whose replies are errors: exit 1, no good-looking numbers', async () => {
    const run = await runBench(['api', '--url', server.urls.ws, '--plugin', 'janus.plugin.brokenlua', '--body', '{"request":"raise"}', '--sessions', '4', '--messages', '1000', '--json'], 20_000);
    failedFast(run, /every reply is an error: error \d+/);
    const result = run.json();
    expect(result.ok).to.equal(false);
    expect(result.replies).to.equal(0);
    expect(result.msgsPerSec).to.equal(null);
    expect((result.latencyMs as JsonObject).p50).to.equal(null);
    expect((result.errors as JsonObject).total).to.be.at.least(1);
    expect(run.stderr).to.include('FAILED: every reply is an error');
  });

  it('a plugin that errors for media scenarios too (echo against a non-echo plugin)', async () => {
    const run = await runBench(['echo', '--url', server.urls.ws, '--plugin', 'janus.plugin.brokenlua', '--sessions', '2', '--duration', '2'], 30_000);
    failedFast(run, /no echo session came up/);
  });

  it('more failed operations than --max-error-rate: the run fails even with successes', async () => {
    // The rule itself, with a scenario that reports 95 successes and 5 errors of 100.
    const scenario: Scenario = {
      unit: 'msgs',
      counters: () => ({ sessionsUp: 1, operations: 95, errors: 5 }),
      run: async () => {
        const errors = new Tally();
        for (let i = 0; i < 5; i++) errors.add('462', 'error 462: no');
        return { figures: {}, rows: [], histograms: [], errors, attempts: 100 };
      },
    };
    const strict = await runScenario(parseOptions(['api', '--quiet', '--max-error-rate', '0.04'])!, scenario, 'test');
    expect(strict.ok).to.equal(false);
    expect(strict.failure).to.equal('5 of 100 operations failed (5.0% > 4.0%); first: error 462: no');
    expect(strict.errors).to.deep.equal({ total: 5, rate: 0.05, byCode: { 462: 5 }, first: 'error 462: no' });
    const lenient = await runScenario(parseOptions(['api', '--quiet', '--max-error-rate', '0.05'])!, scenario, 'test');
    expect(lenient.ok).to.equal(true);
  });

  it('--api-secret: sent with every request (HTTP long poll too); without it the server refuses, exit 1', async () => {
    const guarded = await startLuasfuProcess([{ path: join(ROOT, 'lua', 'echotest.lua') }], 1, { apiSecret: 'benchsecret' });
    try {
      const refused = await runBench(['api', '--url', guarded.urls.ws, '--sessions', '2', '--messages', '5'], 20_000);
      failedFast(refused, /create session at .*: error 403/);
      for (const url of [guarded.urls.ws, guarded.urls.http]) {
        const run = await runBench(['api', '--url', url, '--api-secret', 'benchsecret', '--sessions', '2', '--messages', '5', '--json', '--quiet'], 20_000);
        expect(run.code, run.stderr).to.equal(0);
        expect(run.json().replies).to.equal(10);
      }
    } finally {
      await guarded.stop();
    }
  });

  it('--token: stored-token auth (Janus token_auth) over WebSocket and HTTP long poll', async () => {
    const guarded = await startLuasfuProcess([{ path: join(ROOT, 'lua', 'echotest.lua') }], 1, { tokenAuth: true });
    try {
      const added = await fetch(guarded.urls.adminHttp, {
        method: 'POST',
        body: JSON.stringify({ janus: 'add_token', token: 'bench-token', transaction: 't', admin_secret: guarded.adminSecret }),
      });
      expect(((await added.json()) as JsonObject).janus).to.equal('success');
      failedFast(await runBench(['api', '--url', guarded.urls.ws, '--token', 'wrong'], 20_000), /create session at .*: error 403/);
      for (const url of [guarded.urls.ws, guarded.urls.http]) {
        const run = await runBench(['api', '--url', url, '--token', 'bench-token', '--sessions', '2', '--messages', '5', '--json', '--quiet'], 20_000);
        expect(run.code, run.stderr).to.equal(0);
        expect(run.json().replies).to.equal(10);
      }
    } finally {
      await guarded.stop();
    }
  });

  it('--server-pid of no process, and bad usage', async () => {
    failedFast(await runBench(['api', '--url', server.urls.ws, '--server-pid', '4000000'], 20_000), /--server-pid 4000000: no such process/);
    const usage = await runBench(['api', '--sessions', '0'], 20_000);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.match(/--sessions must be an integer from 1 to 10000/);
    const scheme = await runBench(['api', '--url', 'ftp://127.0.0.1/'], 20_000);
    expect(scheme.code).to.equal(2);
    // --peer: one of the two, and only where a peer connects per cycle.
    expect(parseOptions(['churn', '--connect'])!.peer).to.equal('libdatachannel');
    expect(() => parseOptions(['churn', '--connect', '--peer', 'firefox'])).to.throw(/--peer must be libdatachannel or libwebrtc/);
    expect(() => parseOptions(['echo', '--peer', 'libwebrtc'])).to.throw(/--peer is for churn --connect/);
    expect(() => parseOptions(['churn', '--peer', 'libdatachannel'])).to.throw(/--peer is for churn --connect/);
    // --events-port: a port, and only where joins are split on the server's clock.
    expect(parseOptions(['echo', '--events-port', '9000'])!.eventsPort).to.equal(9000);
    expect(() => parseOptions(['echo', '--events-port', '70000'])).to.throw(/--events-port must be an integer from 1 to 65535/);
    expect(() => parseOptions(['api', '--events-port', '9000'])).to.throw(/--events-port is for echo/);
    const help = await runBench(['--help'], 20_000);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/^Usage: luasfu-bench <scenario>/);
  });

  it('Ctrl-C: stops cleanly, reports what it measured, exit 130, nothing left on the server', async () => {
    const run = await runBench(
      ['api', '--url', server.urls.ws, '--sessions', '4', '--messages', '1000000', '--duration', '600', '--json', '--admin-url', server.urls.adminHttp, '--admin-secret', server.adminSecret],
      30_000,
      (pid) => setTimeout(() => process.kill(pid, 'SIGINT'), 2500),
    );
    expect(run.code, run.stderr).to.equal(130);
    expect(run.ms).to.be.below(15_000);
    const result = run.json();
    expect(result.interrupted).to.equal(true);
    expect(result.replies).to.be.above(0);
    expect(result.adminSessions).to.deep.include({ left: 0 });
    expect(run.stderr).to.include('INTERRUPTED');
  });
});
