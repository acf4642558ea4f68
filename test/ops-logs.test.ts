// Logs on pino: JSON lines by default, pino-pretty (with colour) for the pretty format; the
// handle's and the script's loggers carry session, handle, plugin and script as bound fields;
// the level is shared by every child and follows Janus's debug_level numbers.

import { expect } from 'chai';
import { parseConfig } from '../src/config';
import { Logger, janusDebugLevel, logLevelOfJanus } from '../src/log';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourScript, scriptConfig } from './lua-fixtures';
import { adminPost } from './support/admin-http';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { TEST_ADMIN_SECRET, startTestServer } from './support/test-server';

const ANSI = /\u001b\[[0-9;]*m/g;

/** A server with echotest.lua logging through `logger`; drives a handle into a logged warning. */
async function logThroughASession(logger: Logger): Promise<{ sessionId: number; handleId: number; script: string }> {
  const script = ourScript('echotest.lua');
  const ts = await startTestServer({ plugins: [createLuaPlugin(scriptConfig(script), logger)], logger });
  const client = await JanusWsClient.connect(ts.urls.ws);
  try {
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.echolua');
    // More candidates than a handle queues before its SDP: the handle's own logger warns.
    const candidates = Array.from({ length: 257 }, (_, i) => ({ candidate: `candidate:${i} 1 udp 1 127.0.0.1 ${10000 + i} typ host`, sdpMid: '0' }));
    const ack = await client.request({ janus: 'trickle', session_id: sessionId, handle_id: handleId, candidates });
    expect(ack.janus).to.equal('ack');
    return { sessionId, handleId, script };
  } finally {
    await client.close();
    await ts.close();
  }
}

describe('ops: logs', function () {
  this.timeout(20_000);

  it('writes pretty, coloured lines with the bound session, handle, plugin and script fields', async () => {
    const lines: string[] = [];
    const logger = Logger.create({ level: 'debug', format: 'pretty', color: true, sink: { write: (line) => lines.push(line) } });
    const { sessionId, handleId, script } = await logThroughASession(logger);
    expect(lines.some((line) => line.includes('\u001b['))).to.equal(true);
    const plain = lines.map((line) => line.replace(ANSI, ''));
    const warning = plain.find((line) => line.includes('too many candidates before the SDP'));
    expect(warning).to.match(/^\[[\d-]+ [\d:.]+\] WARN: too many candidates before the SDP, dropping one \{/);
    const fields = JSON.parse(warning!.slice(warning!.indexOf('{'))) as JsonObject;
    expect(fields).to.include({ session: sessionId, handle: handleId, plugin: 'janus.plugin.echolua', component: 'janus-core' });
    const loaded = plain.find((line) => line.includes('INFO: script loaded'));
    expect(JSON.parse(loaded!.slice(loaded!.indexOf('{')))).to.include({ script, component: 'script', package: 'janus.plugin.echolua' });
  });

  it('writes one JSON object per line by default, with the same fields and level names', async () => {
    const lines: string[] = [];
    const logger = Logger.create({ level: 'info', sink: { write: (line) => lines.push(line) } });
    const { sessionId, handleId } = await logThroughASession(logger);
    const records = lines.map((line) => JSON.parse(line) as JsonObject);
    const warning = records.find((record) => record.msg === 'too many candidates before the SDP, dropping one');
    expect(warning).to.include({ level: 'warn', session: sessionId, handle: handleId, plugin: 'janus.plugin.echolua' });
    expect(String(warning!.time)).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // debug is below info: nothing at debug level was written.
    expect(records.filter((record) => record.level === 'debug')).to.deep.equal([]);
    const error = Logger.create({ sink: { write: (line) => lines.push(line) } });
    error.error('failed', { error: new Error('boom') });
    expect((JSON.parse(lines[lines.length - 1]!) as JsonObject).error).to.include({ type: 'Error', message: 'boom' });
  });

  it('shares one level between a logger and its children; Admin set_log_level takes Janus numbers', async () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(logLevelOfJanus)).to.deep.equal(['fatal', 'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'trace']);
    expect(janusDebugLevel('info')).to.equal(4);
    // In a config file too.
    expect(parseConfig({ log: { level: 5 } }).log.level).to.equal('debug');
    expect(parseConfig({ log: { level: 0 } }).log.level).to.equal('fatal');
    const lines: string[] = [];
    const logger = Logger.create({ level: 'info', sink: { write: (line) => lines.push(line) } });
    const child = logger.child({ session: 1 });
    child.debug('hidden');
    const ts = await startTestServer({ logger });
    try {
      const reply = await adminPost(ts.urls.adminHttp, { janus: 'set_log_level', level: 7, transaction: 'l', admin_secret: TEST_ADMIN_SECRET });
      expect(reply.level).to.equal(7);
      expect(logger.level).to.equal('trace');
      child.debug('shown');
      expect(lines.map((line) => (JSON.parse(line) as JsonObject).msg)).to.include('shown').and.not.include('hidden');
    } finally {
      await ts.close();
    }
  });
});
