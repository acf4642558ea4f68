// JavaScript (Duktape-contract) scripts at the Plugin level: broken scripts fail to load with
// a clear error; a throwing or runaway callback gets 462 "Duktape error" and the script keeps
// working; nothing of Node is reachable; host functions throw TypeError/Error of the
// script's own realm exactly where janus_duktape.c does; require/modSearch, console, timers.

import { expect } from 'chai';
import { join } from 'node:path';
import type { ScriptConfig } from '../src/config';
import { scriptPlugin } from '../src/index';
import { silentLogger } from '../src/log';
import type { PluginHandle } from '../src/plugin/plugin';
import { createJsPlugin } from '../src/script/js-plugin';
import type { ScriptPlugin } from '../src/script/script-plugin';
import { OUR_JS_DIR, ourJs } from './fixtures/js/fixtures';
import { FakeHost, waitFor } from './lua-fixtures';
import { usePluginStarter } from './support/plugin-starter';

const handle = (id: number): PluginHandle => ({ id, sessionId: 1 });

/** [case in host-api.js's invalidCalls, function, argument position, argument name, what is thrown]. */
const INVALID_JS_CALLS: Array<[string, string, number, string, 'TypeError' | 'Error']> = [
  ['timeCallback', 'timeCallback', 1, 'function', 'Error'],
  ['timeCallbackDelay', 'timeCallback', 3, 'ms', 'Error'],
  ['pushEvent', 'pushEvent', 1, 'id', 'TypeError'],
  ['pushEventId', 'pushEvent', 1, 'id', 'Error'],
  ['notifyEvent', 'notifyEvent', 1, 'id', 'Error'],
  ['closePc', 'closePc', 1, 'id', 'TypeError'],
  ['endSession', 'endSession', 1, 'id', 'Error'],
  ['configureMedium', 'configureMedium', 2, 'medium', 'Error'],
  ['configureMediumDirection', 'configureMedium', 3, 'direction', 'Error'],
  ['configureMediumFlag', 'configureMedium', 4, 'enabled', 'TypeError'],
  ['addRecipient', 'addRecipient', 2, 'recipient', 'TypeError'],
  ['removeRecipient', 'removeRecipient', 1, 'sender', 'Error'],
  ['setBitrate', 'setBitrate', 2, 'bitrate', 'TypeError'],
  ['setPliFreq', 'setPliFreq', 2, 'seconds', 'Error'],
  ['setSubstream', 'setSubstream', 2, 'substream', 'Error'],
  ['setTemporalLayer', 'setTemporalLayer', 2, 'temporal', 'Error'],
  ['sendPli', 'sendPli', 1, 'id', 'TypeError'],
  ['relayRtp', 'relayRtp', 4, 'length', 'Error'],
  ['relayRtcp', 'relayRtcp', 3, 'packet', 'TypeError'],
  ['relayTextData', 'relayTextData', 3, 'length', 'Error'],
  ['relayBinaryData', 'relayBinaryData', 2, 'buffer', 'TypeError'],
  ['relayData', 'relayData', 3, 'length', 'TypeError'],
  ['startRecording', 'startRecording', 2, 'type', 'TypeError'],
  ['startRecordingCodec', 'startRecording', 3, 'codec', 'Error'],
  ['stopRecording', 'stopRecording', 2, 'type', 'TypeError'],
  ['readFile', 'readFile', 1, 'path', 'TypeError'],
];

function config(name: string, extra: Partial<ScriptConfig> = {}): ScriptConfig {
  return { path: ourJs(name), instructionLimit: 1_000_000, memoryLimitMb: 256, ...extra };
}

describe('JavaScript scripts: sandbox, errors and host functions', function () {
  const starter = usePluginStarter(createJsPlugin, config);
  const start = starter.start;
  const plugins = starter.plugins;

  async function loadError(name: string, extra: Partial<ScriptConfig> = {}): Promise<string> {
    let error: Error | undefined;
    await start(name, extra).catch((e: Error) => (error = e));
    expect(error, 'the load should fail').to.be.instanceOf(Error);
    return error!.message;
  }

  it('refuses a script missing a mandatory callback, naming it', async function () {
    expect(await loadError('missing-callback.js')).to.match(/missing-callback\.js does not define the mandatory function hangupMedia$/);
  });

  it('refuses a script that does not parse, and one whose init throws', async function () {
    expect(await loadError('syntax-error.js')).to.match(/^error running .*syntax-error\.js: .*syntax-error\.js:2: SyntaxError: Unexpected token ';'$/);
    expect(await loadError('init-throws.js', { config: 'cfg' })).to.match(/^init failed: Error: cannot start: cfg\n\s+at init \(.*init-throws\.js:2:/);
    expect(await loadError('no-such-script.js')).to.match(/^cannot load .*no-such-script\.js: ENOENT/);
  });

  it('registers under janus.plugin.duktape with the Duktape plugin info by default', async function () {
    const { plugin } = await start('minimal.js');
    expect(plugin.info()).to.deep.equal({
      package: 'janus.plugin.duktape',
      name: 'Janus JavaScript plugin (Duktape)',
      description: 'A custom plugin for implementing the logic in JavaScript, via Duktape.',
      author: 'luasfu',
      version: 1,
      versionString: '0.0.1',
    });
    expect(plugin.hooks().size).to.equal(0);
  });

  it('maps handleMessage results and errors as janus_duktape.c does (462 "Duktape error")', async function () {
    const { plugin } = await start('broken.js');
    const h = handle(1);
    await plugin.createSession(h);
    const ask = (request: string) => plugin.handleMessage(h, 't', { request }, undefined);
    expect(await ask('throw')).to.deep.equal({ kind: 'error', reason: 'Duktape error' });
    const failure = starter.log.find('script callback failed')[0];
    expect(failure).to.include({ level: 'error', callback: 'handleMessage', limit: false });
    expect(String(failure.error)).to.match(/^Error: boom\n\s+at handleMessage \(.*broken\.js:\d+:\d+\)/);
    expect(await ask('negative')).to.deep.equal({ kind: 'error', reason: 'Duktape error' });
    expect(await ask('async')).to.deep.equal({ kind: 'ack' });
    expect(await ask('object')).to.deep.equal({ kind: 'error', reason: 'Duktape error' });
    expect(await ask('nothing')).to.deep.equal({ kind: 'error', reason: 'Duktape error' });
    expect(await ask('invalid')).to.deep.equal({ kind: 'error', reason: 'Duktape error' });
    expect(await ask('array')).to.deep.equal({ kind: 'error', reason: 'Plugin returned an invalid JSON response' });
    expect(await ask('ping')).to.deep.equal({ kind: 'ok', data: { pong: true } });
    // querySession throwing: plugin_specific is {"error": String(error)}.
    expect(await plugin.querySession(h)).to.deep.equal({ error: `Error: no info for ${plugin.sessionState(1)!.scriptId}` });
    expect(plugin.restarts).to.equal(0);
  });

  it('stops endless loops with the time limit (also inside try/catch and promise jobs); the script keeps working', async function () {
    const { plugin } = await start('broken.js', {}, { timeLimitMs: 200 });
    const h = handle(2);
    await plugin.createSession(h);
    const ask = (request: string) => plugin.handleMessage(h, 't', { request }, undefined);
    const started = Date.now();
    expect(await ask('loop')).to.deep.equal({ kind: 'error', reason: 'Duktape error' });
    expect(Date.now() - started).to.be.lessThan(5000);
    const failures = starter.log.find('script callback failed');
    expect(failures[0]).to.include({ callback: 'handleMessage', limit: true, error: 'execution time limit exceeded (200 ms)' });
    expect(await ask('catch-loop')).to.deep.equal({ kind: 'error', reason: 'Duktape error' });
    expect(await ask('promise-loop')).to.deep.equal({ kind: 'error', reason: 'Duktape error' });
    expect(starter.log.find('script callback failed').map((r) => r.limit)).to.deep.equal([true, true, true]);
    expect(await ask('ping')).to.deep.equal({ kind: 'ok', data: { pong: true } });
    expect(plugin.restarts).to.equal(0);
  });

  it('restarts a script over its memory limit after replying, detaching its handles', async function () {
    const { plugin, host } = await start('broken.js', { memoryLimitMb: 16 }, { taskTimeoutMs: 20_000 });
    const h = handle(7);
    await plugin.createSession(h);
    expect(await plugin.handleMessage(h, 't', { request: 'hoard' }, undefined)).to.deep.equal({ kind: 'ok', data: { hoarded: 40 } });
    await waitFor(() => plugin.restarts === 1, 5000, 'restart');
    expect(String(starter.log.find('restarting script')[0].reason)).to.equal('memory limit exceeded');
    expect(host.ended).to.deep.equal([7]);
    await waitFor(() => host.notifications.length === 2, 5000, 'init again');
    const h2 = handle(8);
    await plugin.createSession(h2);
    expect(await plugin.handleMessage(h2, 't', { request: 'ping' }, undefined)).to.deep.equal({ kind: 'ok', data: { pong: true } });
  });

  it('gives scripts no way to Node: no process, no Node require, no realm leaks, no dynamic import', async function () {
    const { plugin } = await start('broken.js');
    const h = handle(3);
    await plugin.createSession(h);
    expect(await plugin.handleMessage(h, 't', { request: 'process' }, undefined)).to.deep.equal({ kind: 'error', reason: 'Duktape error' });
    expect(String(starter.log.find('script callback failed')[0].error)).to.match(/^ReferenceError: process is not defined/);
    const probe = await plugin.handleMessage(h, 't', { request: 'probe' }, undefined);
    expect(probe).to.deep.equal({
      kind: 'ok',
      data: {
        process: 'undefined',
        module: 'undefined',
        globalProcess: 'undefined',
        requireFs: 'TypeError: module not found: fs',
        viaGlobalCtor: 'undefined',
        viaHostFunction: 'undefined',
        hostErrorIsOurTypeError: true,
        viaHostError: 'undefined',
        viaConsole: 'undefined',
        viaRequire: 'undefined',
        threeArgPushEvent: "Session 1 doesn't exist",
        getterTouched: false,
        Atomics: 'undefined',
        SharedArrayBuffer: 'undefined',
        WebAssembly: 'undefined',
      },
    });
    expect(await plugin.handleMessage(h, 't', { request: 'import' }, undefined)).to.deep.equal({ kind: 'ok', data: { importing: true } });
    const imported = await plugin.handleMessage(h, 't', { request: 'imported' }, undefined);
    expect(imported.kind).to.equal('ok');
    expect(String((imported as unknown as { data: { imported: string } }).data.imported)).to.match(/^failed: /);
  });

  it('host functions: TypeError on wrong types, Error on dead sessions/bad JSON/SDP/data not ready, numbers otherwise', async function () {
    const { plugin, host } = await start('host-api.js');
    const h = handle(4);
    await plugin.createSession(h);
    const id = plugin.sessionState(4)!.scriptId;
    host.media.calls.length = 0;
    const result = await plugin.handleMessage(h, 't', { request: 'types' }, undefined);
    expect(result).to.deep.equal({ kind: 'ok', data: { results: [
      'TypeError: Invalid argument (expected DUK_TYPE_BOOLEAN, got DUK_TYPE_NUMBER)',
      'ok:0',
      'TypeError: Invalid argument (expected DUK_TYPE_NUMBER, got DUK_TYPE_STRING)',
      "Error: Session 12345 doesn't exist",
      'ok:0',
      'ok:0',
      'TypeError: Invalid argument (expected DUK_TYPE_STRING, got DUK_TYPE_NUMBER)',
      'Error: JSON error: the event is not a JSON object or array',
      'ok:455',
      'Error: Error parsing answer: invalid SDP',
      "Error: Session 12345 doesn't exist",
      'TypeError: Invalid argument (expected DUK_TYPE_STRING, got DUK_TYPE_NULL)',
      'ok:0',
      'ok:0',
      'ok:1',
      'Error: JSON error: the event is not a JSON object or array',
      `Error: Datachannel not ready yet for session ${id}`,
      'TypeError: Invalid argument (expected DUK_TYPE_BOOLEAN, got DUK_TYPE_NUMBER)',
      'Error: relayRtp: invalid argument 4 (length): expected a length >= 1, got 0',
      'ok:0',
      "Error: Recipient session 12345 doesn't exist",
      "Error: Session 12345 doesn't exist",
      'Error: setSubstream: invalid argument 2 (substream): expected an integer from 0 to 2, got -1',
      'ok:0',
      'Error: startRecording: invalid argument 3 (codec): unsupported codec "nope"',
      'ok:0',
      'TypeError: Invalid argument (expected DUK_TYPE_NUMBER, got DUK_TYPE_STRING)',
      'Error: Error opening file: /nonexistent/luasfu',
      'TypeError: Invalid argument (expected DUK_TYPE_STRING, got DUK_TYPE_NUMBER)',
      'ok:20700',
      'ok:1234',
      'ok:undefined',
      'ok:0',
    ] } });
    expect(host.media.calls).to.deep.equal([
      ['configureMedium', 4, 'audio', 'in', true],
      ['relayRtp', 4, true, '\x80\x01\xff'],
      ['startRecording', 4, [{ type: 'audio', codec: 'opus', folder: '/tmp', filename: 'luasfu-js-audio' }]],
      ['stopRecording', 4, ['audio']],
    ]);
    // pushEvent with null/undefined transaction and jsep; then pokeScheduler's resumeScheduler;
    // then the timers: undefined argument = no argument.
    await waitFor(() => host.events.length === 5, 3000, 'events and timers');
    expect(host.events.map((e) => [e.transaction, e.event, e.jsep])).to.deep.equal([
      [undefined, { a: 1 }, undefined],
      [undefined, { a: 2 }, undefined],
      [undefined, { resumed: true }, undefined],
      [undefined, { later: 'no argument' }, undefined],
      [undefined, { later: 'arg' }, undefined],
    ]);
  });

  it('refuses a bad argument of every host function: a TypeError (wrong type) or Error (wrong value), one warning naming it', async function () {
    const { plugin, host } = await start('host-api.js');
    const h = handle(9);
    await plugin.createSession(h);
    host.media.calls.length = 0;
    for (const [name, fn, position, argument, thrown] of INVALID_JS_CALLS) {
      starter.log.records.length = 0;
      const result = await plugin.handleMessage(h, 't', { request: 'invalid', case: name }, undefined);
      const expected = thrown === 'TypeError' ? /^TypeError: Invalid argument \(expected DUK_TYPE_\w+, got DUK_TYPE_\w+\)$/ : new RegExp(`^Error: ${fn}: invalid argument ${position} \\(${argument}\\): `);
      expect(result.kind, name).to.equal('ok');
      expect((result as unknown as { data: { result: string } }).data.result, name).to.match(expected);
      const warnings = starter.log.records.filter((r) => r.source === 'janusLog' && String(r.msg).includes('invalid argument'));
      expect(warnings.map((r) => [r.level, String(r.msg).split(':').slice(0, 2).join(':')]), name).to.deep.equal([
        ['warn', `${fn}: invalid argument ${position} (${argument})`],
      ]);
    }
    expect(host.media.calls, 'no refused call reached the media plane').to.deep.equal([]);
  });

  it('follows Janus for an unknown recording type: startRecording counts it (0, a warning, nothing recorded), stopRecording skips it', async function () {
    const { plugin, host } = await start('host-api.js');
    const h = handle(10);
    await plugin.createSession(h);
    host.media.calls.length = 0;
    starter.log.records.length = 0;
    for (const name of ['startRecordingUnknownType', 'stopRecordingUnknownType']) {
      expect(await plugin.handleMessage(h, 't', { request: 'invalid', case: name }, undefined), name).to.deep.equal({ kind: 'ok', data: { result: 'ok:0' } });
    }
    const warnings = starter.log.records.filter((r) => r.source === 'janusLog').map((r) => [r.level, String(r.msg)]);
    expect(warnings).to.deep.equal([['warn', "startRecording: Unknown recording type 'smell', ignored"]]);
    expect(host.media.calls).to.deep.equal([]);
  });

  it('passes null for a missing jsep and config; data as strings (binary: one char per byte)', async function () {
    const { plugin, host } = await start('host-api.js');
    const h = handle(5);
    await plugin.createSession(h);
    expect(await plugin.handleMessage(h, 'tr-1', { request: 'args' }, undefined)).to.deep.equal({
      kind: 'ok', data: { jsep: null, jsepType: 'null', tr: 'tr-1', init: 'null' },
    });
    plugin.dataReady(h);
    plugin.incomingData(h, { binary: true, payload: new Uint8Array([0, 200, 255]), label: 'lbl', protocol: '' });
    plugin.incomingData(h, { binary: false, payload: 'héllo', label: 'JanusDataChannel', protocol: '' });
    await waitFor(() => host.events.length === 1 && host.media.calls.some((c) => c[0] === 'relayData'), 3000, 'data hooks');
    expect(host.events[0].event).to.deep.equal({ binary: [0, 200, 255], len: 3, label: 'lbl', protocol: '' });
    expect(host.media.calls.find((c) => c[0] === 'relayData')).to.deep.equal([
      'relayData', 5, { binary: false, payload: 'héllo!', label: 'JanusDataChannel', protocol: '' },
    ]);
  });

  it('require() goes through Duktape.modSearch (module.exports, relative ids, cache); console goes to the log', async function () {
    const modules = join(OUR_JS_DIR, 'modules');
    const { plugin } = await start('host-api.js', { modulesPath: modules });
    const h = handle(6);
    await plugin.createSession(h);
    expect(await plugin.handleMessage(h, 't', { request: 'require' }, undefined)).to.deep.equal({
      kind: 'ok',
      data: {
        hello: 'hello, luasfu',
        thisIsExports: true,
        processFromModule: 'undefined',
        cached: true,
        loaded: ['greet', 'words'],
        missing: `Error: Error opening file: ${modules}/nope.js`,
        unparsable: "SyntaxError: broken-module.js:2: Unexpected token ';'",
        folder: modules,
      },
    });
    await plugin.handleMessage(h, 't', { request: 'console' }, undefined);
    const lines = starter.log.records.filter((r) => r.source === 'janusLog').map((r) => [r.level, r.msg]);
    expect(lines).to.deep.equal([
      ['info', 'plain 42 {"b":[1,2]} null undefined'],
      ['warn', 'careful'],
      ['error', 'bad'],
    ]);
  });

  it('require() without a modSearch of the script\'s own: its own folder, then modulesPath; getModulesFolder() defaults to its folder', async function () {
    const ask = async (plugin: ScriptPlugin): Promise<unknown> => {
      const h = handle(11);
      await plugin.createSession(h);
      const result = await plugin.handleMessage(h, 't', {}, undefined);
      return (result as unknown as { data: unknown }).data;
    };
    const alone = await start('default-modules.js');
    expect(await ask(alone.plugin)).to.deep.equal({
      ownFolder: 'ok:hello, own folder',
      modulesPath: 'TypeError: module not found: greet',
      missing: 'TypeError: module not found: nope',
      escape: 'TypeError: module not found: ../js/minimal',
      folder: OUR_JS_DIR,
    });
    const modules = join(OUR_JS_DIR, 'modules');
    const withPath = await start('default-modules.js', { modulesPath: modules });
    expect(await ask(withPath.plugin)).to.deep.equal({
      ownFolder: 'ok:hello, own folder',
      modulesPath: 'ok:hello, modulesPath',
      missing: 'TypeError: module not found: nope',
      escape: 'TypeError: module not found: ../js/minimal',
      folder: modules,
    });
  });

  it('scriptPlugin() maps .js scripts to the JavaScript plugin', async function () {
    const plugin = scriptPlugin(config('host-api.js'), silentLogger()) as ScriptPlugin;
    plugins.push(plugin);
    await plugin.init(new FakeHost(true));
    expect(plugin.info().package).to.equal('janus.plugin.jshostapi');
    expect(() => scriptPlugin(config('x.py'), silentLogger())).to.throw(/must name a \.lua or \.js script/);
  });
});
