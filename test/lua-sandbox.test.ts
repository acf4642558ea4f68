// Broken and hostile scripts: a missing callback or a syntax error fails the start with a
// clear error; a callback that errors, runs away or calls os.exit gets 462 and a log line and
// the script keeps working; a hung worker, one over its memory limit, or one that was
// replaced is terminated, the script restarted (init again) and its handles detached.

import { expect } from 'chai';
import type { ScriptConfig } from '../src/config';
import type { PluginHandle } from '../src/plugin/plugin';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourLua, waitFor } from './lua-fixtures';
import { usePluginStarter } from './support/plugin-starter';

const handle = (id: number): PluginHandle => ({ id, sessionId: 1 });

function config(name: string, extra: Partial<ScriptConfig> = {}): ScriptConfig {
  return { path: ourLua(name), instructionLimit: 200_000, memoryLimitMb: 256, ...extra };
}

describe('Lua sandbox and supervision', function () {
  const starter = usePluginStarter(createLuaPlugin, config);
  const start = starter.start;
  const plugins = starter.plugins;

  it('refuses a script missing a mandatory callback, naming it', async function () {
    let error: Error | undefined;
    await start('missing-callback.lua').catch((e: Error) => (error = e));
    expect(error?.message).to.match(/missing-callback\.lua does not define the mandatory function hangupMedia$/);
  });

  it('refuses a script that does not parse', async function () {
    let error: Error | undefined;
    await start('syntax-error.lua').catch((e: Error) => (error = e));
    expect(error?.message).to.match(/^cannot load .*syntax-error\.lua: .*syntax-error\.lua:3: .*expected near <eof>/);
  });

  it('stops an endless loop (and a pcall-wrapped one) with the instruction limit: 462, logged, script alive', async function () {
    const { plugin } = await start('endless-loop.lua');
    const h = handle(1);
    await plugin.createSession(h);
    expect(await plugin.handleMessage(h, 't1', { request: 'loop' }, undefined)).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    const failures = starter.log.find('script callback failed');
    expect(failures).to.have.length(1);
    expect(failures[0]).to.include({ level: 'error', callback: 'handleMessage', limit: true });
    expect(String(failures[0].error)).to.include('instruction limit exceeded (200000)');
    expect(await plugin.handleMessage(h, 't2', { request: 'pcall-loop' }, undefined)).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    expect(await plugin.handleMessage(h, 't3', { request: 'ping' }, undefined)).to.deep.equal({ kind: 'ok', data: { pong: true } });
    expect(plugin.restarts).to.equal(0);
  });

  it('turns os.exit into a Lua error (462) without touching the process', async function () {
    const { plugin } = await start('os-exit.lua');
    const h = handle(2);
    await plugin.createSession(h);
    expect(await plugin.handleMessage(h, 't', { request: 'exit' }, undefined)).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    expect(String(starter.log.find('script callback failed')[0].error)).to.include('os.exit is not available to luasfu scripts');
    expect(await plugin.handleMessage(h, 't', { request: 'ping' }, undefined)).to.deep.equal({ kind: 'ok', data: { pong: true } });
  });

  it('looks callbacks up in _G at every call: a replaced handleMessage, one served by __index', async function () {
    const { plugin } = await start('replaced-callback.lua');
    const h = handle(4);
    await plugin.createSession(h);
    const ask = () => plugin.handleMessage(h, 't', { request: 'replace' }, undefined);
    expect(await ask()).to.deep.equal({ kind: 'ok', data: { version: 1 } });
    expect(await ask()).to.deep.equal({ kind: 'ok', data: { version: 2 } });
    expect(await ask()).to.deep.equal({ kind: 'ok', data: { version: 3 } });
    expect(await plugin.querySession(h)).to.deep.equal({ alive: true });
  });

  it('maps handleMessage errors and return values as janus_lua.c does', async function () {
    const { plugin } = await start('error-in-handle.lua');
    const h = handle(3);
    await plugin.createSession(h);
    const ask = (request: string) => plugin.handleMessage(h, 't', { request }, undefined);
    expect(await ask('raise')).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    expect(String(starter.log.find('script callback failed')[0].error)).to.match(/error-in-handle\.lua:4: boom/);
    expect(await ask('reason')).to.deep.equal({ kind: 'error', reason: 'custom reason' });
    expect(await ask('negative')).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    expect(await ask('array')).to.deep.equal({ kind: 'error', reason: 'Plugin returned an invalid JSON response' });
    expect(await ask('invalid')).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    expect(await ask('nothing')).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    expect(await ask('number')).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    expect(await ask('async')).to.deep.equal({ kind: 'ack' });
    expect(await ask('other')).to.deep.equal({ kind: 'ok', data: { unknown: 'other' } });
  });

  it('terminates a hung worker, restarts the script (init again) and detaches its handles', async function () {
    const { plugin, host } = await start('hang.lua', {}, { taskTimeoutMs: 1000 });
    // Like the core: endSession leads to hangupMedia then destroySession.
    host.onEndSession = (id) => {
      setImmediate(() => void plugin.hangupMedia(handle(id)).then(() => plugin.destroySession(handle(id))));
    };
    const h1 = handle(10);
    const h2 = handle(11);
    await plugin.createSession(h1);
    await plugin.createSession(h2);
    expect(await plugin.handleMessage(h1, 't', { request: 'hang' }, undefined)).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    expect(starter.log.find('restarting script')[0]).to.include({ level: 'error' });
    expect(String(starter.log.find('restarting script')[0].reason)).to.match(/^worker hung/);
    expect(host.ended.sort()).to.deep.equal([10, 11]);
    await waitFor(() => plugin.sessionState(10) === undefined && plugin.sessionState(11) === undefined, 3000, 'orphans detached');
    await waitFor(() => host.notifications.length === 2, 5000, 'init again');
    expect(host.notifications).to.deep.equal([{ handleId: 0, event: { event: 'init' } }, { handleId: 0, event: { event: 'init' } }]);
    expect(plugin.restarts).to.equal(1);
    const h3 = handle(12);
    await plugin.createSession(h3);
    expect(await plugin.handleMessage(h3, 't', { request: 'ping' }, undefined)).to.deep.equal({ kind: 'ok', data: { pong: true } });
  });

  it('restarts a script over its memory limit after replying', async function () {
    const { plugin, host } = await start('memory-hog.lua', { memoryLimitMb: 32 }, { taskTimeoutMs: 20_000 });
    const h = handle(20);
    await plugin.createSession(h);
    expect(await plugin.handleMessage(h, 't', { request: 'hoard' }, undefined)).to.deep.equal({ kind: 'ok', data: { hoarded: 48 } });
    await waitFor(() => plugin.restarts === 1, 5000, 'restart');
    expect(String(starter.log.find('restarting script')[0].reason)).to.equal('memory limit exceeded');
    expect(host.ended).to.deep.equal([20]);
    expect(plugin.sessionState(20)?.orphaned).to.equal(true);
    expect(await plugin.handleMessage(h, 't', { request: 'ping' }, undefined)).to.deep.equal({ kind: 'error', reason: 'Script restarted' });
    await waitFor(() => host.notifications.length === 2, 5000, 'init again');
    const h2 = handle(21);
    await plugin.createSession(h2);
    expect(await plugin.handleMessage(h2, 't', { request: 'ping' }, undefined)).to.deep.equal({ kind: 'ok', data: { pong: true } });
  });

  it('notices a worker that was replaced (its script state gone) and restarts the script', async function () {
    const { plugin, host } = await start('os-exit.lua');
    const h = handle(30);
    await plugin.createSession(h);
    // Kill the thread behind piscina's back; piscina starts a fresh one with no script.
    const pool = (plugin as unknown as { channel: { pool: { piscina: { threads: Array<{ terminate(): Promise<number> }> } } } }).channel.pool;
    await pool.piscina.threads[0].terminate();
    const answer = await plugin.handleMessage(h, 't', { request: 'ping' }, undefined);
    expect(answer).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    await waitFor(() => plugin.restarts === 1, 5000, 'restart');
    expect(host.ended).to.deep.equal([30]);
    await waitFor(() => host.notifications.length === 2, 5000, 'init again');
    const h2 = handle(31);
    await plugin.createSession(h2);
    expect(await plugin.handleMessage(h2, 't', { request: 'ping' }, undefined)).to.deep.equal({ kind: 'ok', data: { pong: true } });
  });
});
