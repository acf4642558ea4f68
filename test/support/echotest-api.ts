// Janus's own echotest (echotest.lua or echotest.js, unmodified) through the real Janus API of
// the test server: what a janus.js client and the Admin API see, whichever runtime runs it.

import { expect } from 'chai';
import type { JsonObject } from '../../src/plugin/json';
import type { ScriptPlugin } from '../../src/script/script-plugin';
import { readSdpFixture } from '../fixtures/sdp/fixtures';
import { adminPost } from './admin-http';
import { type JanusWsClient, createAndAttach, newTransaction } from './janus-ws-client';
import { TEST_ADMIN_SECRET, type TestServer } from './test-server';

export interface EchotestApiRun {
  ts: TestServer;
  client: JanusWsClient;
  echo: ScriptPlugin;
  /** The package the script registers under (janus.plugin.echolua, janus.plugin.echojs). */
  plugin: string;
  /** Its file name, as querySession reports it. */
  script: string;
  /** What message_plugin sends it (and gets back). */
  hello: string;
}

/**
 * Sync success, then ack + event with the answer; handle_info shows querySession; the admin
 * message_plugin comes back; detach ends the script's session.
 */
export async function echotestThroughJanusApi({ ts, client, echo, plugin, script, hello }: EchotestApiRun): Promise<void> {
  const { sessionId, handleId } = await createAndAttach(client, plugin);
  const sync = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { audio: true, video: true } });
  expect(sync).to.deep.equal({
    janus: 'success',
    session_id: sessionId,
    transaction: sync.transaction,
    sender: handleId,
    plugindata: { plugin, data: { echotest: 'response', result: 'ok' } },
  });
  const transaction = newTransaction();
  const ack = await client.request({
    janus: 'message', session_id: sessionId, handle_id: handleId, transaction,
    body: { audio: true, video: true }, jsep: { type: 'offer', sdp: readSdpFixture('chrome-offer.sdp') },
  });
  expect(ack).to.deep.equal({ janus: 'ack', session_id: sessionId, transaction });
  const event = await client.next((m) => m.janus === 'event' && m.transaction === transaction, 5000);
  expect(event.sender).to.equal(handleId);
  expect(event.plugindata).to.deep.equal({ plugin, data: { echotest: 'event', result: 'ok' } });
  const jsep = event.jsep as JsonObject;
  expect(jsep.type).to.equal('answer');
  expect(String(jsep.sdp)).to.include('\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n');
  expect(String(jsep.sdp)).to.include('\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n');

  const scriptId = echo.sessionState(handleId)!.scriptId;
  const reply = await adminPost(`${ts.urls.adminHttp}/${sessionId}/${handleId}`, {
    janus: 'handle_info', plugin_only: true, transaction: 'hi', admin_secret: TEST_ADMIN_SECRET,
  });
  expect((reply.info as JsonObject).plugin).to.equal(plugin);
  expect((reply.info as JsonObject).plugin_specific).to.deep.equal({ script, id: scriptId });

  const admin = await adminPost(ts.urls.adminHttp, {
    janus: 'message_plugin', plugin, request: { hello }, transaction: 'mp', admin_secret: TEST_ADMIN_SECRET,
  });
  expect(admin).to.deep.equal({ janus: 'success', transaction: 'mp', response: { hello } });

  expect((await client.request({ janus: 'detach', session_id: sessionId, handle_id: handleId })).janus).to.equal('success');
  await client.next((m) => m.janus === 'detached' && m.sender === handleId, 3000);
  expect(echo.sessionState(handleId)).to.equal(undefined);
}
