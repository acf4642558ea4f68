// luasfu-bench --events-port: the server's event handler documents (the shape Janus's sample
// event handler and luasfu's eventHandlers.http POST) folded into each join's phases on the
// server's clock, and the collector's HTTP side bounded against bad input.

import { expect } from 'chai';
import { type JoinTimes, ServerEventCollector, recordEvent, serverPhases } from '../bench/lib/server-events';
import { freePort } from './support/luasfu-process';

/** The events of one join as a server emits them (timestamps in µs). */
function joinEvents(handle: number, offerAt: number): unknown[] {
  const base = { emitter: 'test', session_id: 1, handle_id: handle };
  return [
    { ...base, type: 2, timestamp: offerAt - 500, event: { name: 'attached', plugin: 'janus.plugin.echolua' } },
    { ...base, type: 8, timestamp: offerAt, event: { owner: 'remote', jsep: { type: 'offer', sdp: 'v=0\r\n' } } },
    { ...base, type: 8, timestamp: offerAt + 4_000, event: { owner: 'local', jsep: { type: 'answer', sdp: 'v=0\r\n' } } },
    { ...base, type: 16, timestamp: offerAt + 30_000, event: { ice: 'connected' } },
    { ...base, type: 16, timestamp: offerAt + 31_500, event: { dtls: 'connected' } },
    { ...base, type: 16, timestamp: offerAt + 32_000, event: { connection: 'webrtcup' } },
    // A second webrtcup (a renegotiation) does not move the first.
    { ...base, type: 16, timestamp: offerAt + 90_000, event: { connection: 'webrtcup' } },
  ];
}

/** Runs `check` against a collector on a free port, closed afterwards. */
async function withCollector(check: (url: string, collector: ServerEventCollector) => Promise<void>): Promise<void> {
  const port = await freePort();
  const collector = await ServerEventCollector.listen(port);
  try {
    await check(`http://127.0.0.1:${port}/`, collector);
  } finally {
    await collector.close();
  }
}

describe('luasfu-bench server events (--events-port)', () => {
  it('splits a join into the server-side phases, in ms, from its jsep and webrtc events', () => {
    const joins = new Map<number, JoinTimes>();
    for (const event of joinEvents(7, 1_000_000)) recordEvent(joins, event);
    expect(serverPhases(joins.get(7)!)).to.deep.equal({ answer: 4, ice: 26, dtls: 1.5, webrtcup: 0.5, total: 32 });
  });

  it('leaves a join without all five events out, and ignores what is not a handle\'s jsep or webrtc event', () => {
    const joins = new Map<number, JoinTimes>();
    const events = joinEvents(8, 2_000_000).filter((e) => (e as { event: { dtls?: string } }).event.dtls === undefined);
    for (const event of events) recordEvent(joins, event);
    expect(serverPhases(joins.get(8)!)).to.equal(undefined);
    for (const junk of [null, 'text', 42, [], { type: 8 }, { type: 8, timestamp: 'x', handle_id: 9, event: {} },
      { type: 16, timestamp: 1, handle_id: '9', event: { ice: 'connected' } }, { type: 16, timestamp: 1, handle_id: 9, event: 'up' }]) {
      recordEvent(joins, junk);
    }
    expect([...joins.keys()]).to.deep.equal([8]);
  });

  it('takes events over HTTP (one document or an array), answers bad bodies with 400, and others than POST with 405', async () => {
    await withCollector(async (url, collector) => {
      const [first, ...rest] = joinEvents(11, 5_000_000);
      expect((await fetch(url, { method: 'POST', body: JSON.stringify(first) })).status).to.equal(200);
      expect((await fetch(url, { method: 'POST', body: JSON.stringify(rest) })).status).to.equal(200);
      expect((await fetch(url, { method: 'POST', body: '{"type": 8,' })).status).to.equal(400);
      expect((await fetch(url)).status).to.equal(405);
      await collector.settle([11], 2000, new AbortController().signal);
      expect(collector.phases([11, 12])).to.deep.equal([{ answer: 4, ice: 26, dtls: 1.5, webrtcup: 0.5, total: 32 }]);
    });
  });

  it('refuses a body over 8 MiB with 413 and keeps serving', async () => {
    await withCollector(async (url, collector) => {
      const huge = await fetch(url, { method: 'POST', body: 'x'.repeat(9 * 1024 * 1024) }).then((r) => r.status, () => 'reset');
      expect([413, 'reset']).to.include(huge);
      expect((await fetch(url, { method: 'POST', body: JSON.stringify(joinEvents(13, 1)) })).status).to.equal(200);
      expect(collector.phases([13])).to.have.length(1);
    });
  });

  it('says which port it could not take', async () => {
    const port = await freePort();
    const first = await ServerEventCollector.listen(port);
    try {
      let message = '';
      await ServerEventCollector.listen(port).catch((error: Error) => { message = error.message; });
      expect(message).to.match(new RegExp(`--events-port ${port}: .*EADDRINUSE`));
    } finally {
      await first.close();
    }
  });
});
