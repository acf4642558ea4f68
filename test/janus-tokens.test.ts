// Token authentication as Janus does it, driven by janode's unchanged `token` / `apisecret`
// options: stored tokens managed with the Admin API (add/list/allow/disallow/remove, each
// limited to plugins) and Janus 1.x signed tokens (HMAC-SHA1, realm `janus`, expiry).

import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import type { JsonObject } from '../src/plugin/json';
import { adminPost } from './support/admin-http';
import { type Janode, type JanodeConnection, loadJanode } from './support/janode';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { TEST_ADMIN_SECRET, type TestServer, startTestServer } from './support/test-server';

const OTHER_PLUGIN = 'janus.plugin.othertest';

/** A Janus 1.x signed token, computed here independently of the server's code. */
function sign(secret: string, expiry: number, realm: string, plugins: string[]): string {
  const data = [String(expiry), realm, ...plugins].join(',');
  return `${data}:${createHmac('sha1', secret).update(data).digest('base64')}`;
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('token auth: stored tokens through the Admin API, used by janode', () => {
  let ts: TestServer;
  let janode: Janode;
  const open: JanodeConnection[] = [];

  const admin = (body: JsonObject): Promise<JsonObject> =>
    adminPost(ts.urls.adminHttp, { transaction: 'adm', admin_secret: TEST_ADMIN_SECRET, ...body });

  async function connect(address: JsonObject): Promise<JanodeConnection> {
    const connection = await janode.janode.connect({ address: { url: ts.urls.ws, ...address }, retry_time_secs: 1, max_retries: 1 });
    open.push(connection);
    return connection;
  }

  before(async () => {
    janode = await loadJanode();
    ts = await startTestServer({ plugins: [new TestPlugin(), new TestPlugin(OTHER_PLUGIN)], config: { tokenAuth: true } });
  });

  after(async () => {
    for (const connection of open) await connection.close().catch(() => undefined);
    await ts.close();
  });

  it('adds a token limited to one plugin; janode with it may attach there and gets 405 elsewhere', async () => {
    const added = await admin({ janus: 'add_token', token: 'tok-a', plugins: [TEST_PLUGIN_PACKAGE] });
    expect(added).to.deep.equal({ janus: 'success', transaction: 'adm', data: { plugins: [TEST_PLUGIN_PACKAGE] } });
    const status = await admin({ janus: 'get_status' });
    expect((status.status as JsonObject).token_auth).to.equal(true);

    const connection = await connect({ token: 'tok-a' });
    const info = await connection.getInfo();
    expect(info.auth_token).to.equal(true);
    const session = await connection.create();
    const handle = await session.attach({ id: TEST_PLUGIN_PACKAGE });
    expect(handle.id).to.be.a('number');
    expect(await rejection(session.attach({ id: OTHER_PLUGIN }))).to.equal(`405 Provided token can't access plugin '${OTHER_PLUGIN}'`);

    const listed = await admin({ janus: 'list_tokens' });
    expect(listed.data).to.deep.equal({ tokens: [{ token: 'tok-a', allowed_plugins: [TEST_PLUGIN_PACKAGE] }] });
    const allowed = await admin({ janus: 'allow_token', token: 'tok-a', plugins: [OTHER_PLUGIN] });
    expect(allowed.data).to.deep.equal({ plugins: [TEST_PLUGIN_PACKAGE, OTHER_PLUGIN] });
    expect((await session.attach({ id: OTHER_PLUGIN })).id).to.be.a('number');
    const disallowed = await admin({ janus: 'disallow_token', token: 'tok-a', plugins: [OTHER_PLUGIN] });
    expect(disallowed.data).to.deep.equal({ plugins: [TEST_PLUGIN_PACKAGE] });
    expect(await rejection(session.attach({ id: OTHER_PLUGIN }))).to.match(/^405 /);

    // Removed: the token authenticates nothing any more, not even the session it created.
    expect((await admin({ janus: 'remove_token', token: 'tok-a' })).janus).to.equal('success');
    expect(await rejection(session.attach({ id: TEST_PLUGIN_PACKAGE }))).to.equal('403 Unauthorized request (wrong or missing secret/token)');
    expect(await rejection(connection.create())).to.equal('403 Unauthorized request (wrong or missing secret/token)');
  });

  it('refuses requests without a token or with an unknown one (403)', async () => {
    const none = await connect({});
    expect(await rejection(none.create())).to.equal('403 Unauthorized request (wrong or missing secret/token)');
    const unknown = await connect({ token: 'not-a-token' });
    expect(await rejection(unknown.create())).to.equal('403 Unauthorized request (wrong or missing secret/token)');
  });

  it('gives a token added without plugins every registered plugin; errors as Janus', async () => {
    const added = await admin({ janus: 'add_token', token: 'tok-all' });
    expect((added.data as JsonObject).plugins).to.have.members([TEST_PLUGIN_PACKAGE, OTHER_PLUGIN]);
    expect((await admin({ janus: 'add_token', token: 'x', plugins: ['janus.plugin.nope'] })).error)
      .to.deep.equal({ code: 467, reason: 'Invalid element in the allowed plugins array' });
    expect((await admin({ janus: 'allow_token', token: 'missing', plugins: [OTHER_PLUGIN] })).error).to.deep.include({ code: 470 });
    expect((await admin({ janus: 'allow_token', token: 'tok-all', plugins: [] })).error).to.deep.include({ code: 467 });
    expect((await admin({ janus: 'remove_token', token: 'missing' })).error).to.deep.equal({ code: 490, reason: 'Error removing token' });
    expect((await admin({ janus: 'add_token' })).error).to.deep.equal({ code: 456, reason: 'Missing mandatory element (token)' });
    // Token management needs the admin secret like everything else.
    expect((await adminPost(ts.urls.adminHttp, { janus: 'list_tokens', transaction: 'n' })).error).to.deep.include({ code: 403 });

    const connection = await connect({ token: 'tok-all' });
    const session = await connection.create();
    expect((await session.attach({ id: OTHER_PLUGIN })).id).to.be.a('number');
    await admin({ janus: 'remove_token', token: 'tok-all' });
  });

  it('checks the token of an HTTP long poll', async () => {
    await admin({ janus: 'add_token', token: 'tok-http', plugins: [TEST_PLUGIN_PACKAGE] });
    const created = await fetch(ts.urls.http, { method: 'POST', body: JSON.stringify({ janus: 'create', transaction: 'c', token: 'tok-http' }) });
    const sessionId = (((await created.json()) as JsonObject).data as JsonObject).id as number;
    const refused = await fetch(`${ts.urls.http}/${sessionId}`, { signal: AbortSignal.timeout(5000) });
    expect(refused.status).to.equal(403);
    const polled = await fetch(`${ts.urls.http}/${sessionId}?token=tok-http`, { signal: AbortSignal.timeout(5000) });
    expect(polled.status).to.equal(200);
    await admin({ janus: 'remove_token', token: 'tok-http' });
  });
});

describe('token auth: Janus 1.x signed tokens, used by janode', () => {
  const SECRET = 'token-signing-secret';
  let ts: TestServer;
  let janode: Janode;
  const open: JanodeConnection[] = [];
  const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

  async function connect(address: JsonObject): Promise<JanodeConnection> {
    const connection = await janode.janode.connect({ address: { url: ts.urls.ws, ...address }, retry_time_secs: 1, max_retries: 1 });
    open.push(connection);
    return connection;
  }

  before(async () => {
    janode = await loadJanode();
    ts = await startTestServer({
      plugins: [new TestPlugin(), new TestPlugin(OTHER_PLUGIN)],
      config: { tokenAuth: true, tokenAuthSecret: SECRET, apiSecret: 'api-secret' },
    });
  });

  after(async () => {
    for (const connection of open) await connection.close().catch(() => undefined);
    await ts.close();
  });

  it('accepts a valid signed token for the plugins it names (405 for others)', async () => {
    const connection = await connect({ token: sign(SECRET, inAnHour(), 'janus', [TEST_PLUGIN_PACKAGE]) });
    const session = await connection.create();
    expect((await session.attach({ id: TEST_PLUGIN_PACKAGE })).id).to.be.a('number');
    expect(await rejection(session.attach({ id: OTHER_PLUGIN }))).to.equal(`405 Provided token can't access plugin '${OTHER_PLUGIN}'`);
  });

  it('refuses expired, foreign-realm, tampered or wrongly signed tokens (403)', async () => {
    const expired = sign(SECRET, Math.floor(Date.now() / 1000) - 10, 'janus', [TEST_PLUGIN_PACKAGE]);
    const realm = sign(SECRET, inAnHour(), 'other', [TEST_PLUGIN_PACKAGE]);
    const valid = sign(SECRET, inAnHour(), 'janus', [TEST_PLUGIN_PACKAGE]);
    const tampered = valid.replace(TEST_PLUGIN_PACKAGE, OTHER_PLUGIN);
    const wrongKey = sign('another-secret', inAnHour(), 'janus', [TEST_PLUGIN_PACKAGE]);
    for (const token of [expired, realm, tampered, wrongKey, 'garbage', `${valid}:extra`]) {
      const connection = await connect({ token });
      expect(await rejection(connection.create()), token).to.equal('403 Unauthorized request (wrong or missing secret/token)');
    }
  });

  it('accepts the api secret instead of a token (either is enough), as janode sends it', async () => {
    const connection = await connect({ apisecret: 'api-secret' });
    const session = await connection.create();
    expect((await session.attach({ id: OTHER_PLUGIN })).id).to.be.a('number');
    const wrong = await connect({ apisecret: 'nope' });
    expect(await rejection(wrong.create())).to.match(/^403 /);
  });

  it('has no stored-token management in signed mode', async () => {
    const reply = await adminPost(ts.urls.adminHttp, { janus: 'add_token', token: 't', transaction: 'a', admin_secret: TEST_ADMIN_SECRET });
    expect(reply.error).to.deep.equal({ code: 490, reason: 'Stored-Token based authentication disabled' });
  });
});
