// The HTTP event backend on its own: the bounded queue drops the oldest events (with one
// warning) while the collector is stuck, and stop() flushes what is left.

import { expect } from 'chai';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBus, type JanusEvent } from '../src/events/event-bus';
import { HttpEventBackend } from '../src/events/http-backend';
import { waitFor } from './lua-fixtures';
import { captureLogger } from './support/log-capture';

describe('event handlers: HTTP backend queue', function () {
  this.timeout(10000);
  let server: Server;
  let url: string;
  const bodies: JanusEvent[][] = [];
  let held: ServerResponse[] = [];
  let hold = true;

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as JanusEvent[]);
        if (hold) held.push(res);
        else res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(async () => {
    for (const res of held) res.end();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('keeps at most maxQueue events, dropping the oldest with a warning, and flushes on stop', async () => {
    const log = captureLogger();
    const backend = new HttpEventBackend({
      config: { url, events: ['all'], grouping: true, maxBatch: 2, flushMs: 0, timeoutMs: 5000, retries: 0, headers: {} },
      logger: log.logger,
      maxQueue: 3,
    });
    const bus = new EventBus({ emitter: 'test', enabled: true, logger: log.logger, backends: [backend] });
    // The first two go out at once and the collector holds that POST: the rest queue up.
    for (let i = 0; i < 2; i++) bus.plugin({}, 'p', { seq: i });
    await waitFor(() => held.length === 1, 3000, 'the held POST');
    for (let i = 2; i < 10; i++) bus.plugin({}, 'p', { seq: i });
    expect(backend.queued).to.equal(3);
    expect(backend.dropped).to.equal(5);
    const warnings = log.find('event queue full');
    expect(warnings).to.have.length(1);
    expect(warnings[0].level).to.equal('warn');

    hold = false;
    for (const res of held.splice(0)) res.end();
    const stopping = bus.stop();
    bus.plugin({}, 'p', { seq: 99 }); // after stop: ignored
    await stopping;
    expect(backend.queued).to.equal(0);
    expect(backend.sent).to.equal(5);
    expect(bodies.map((body) => body.map((event) => (event.event.data as { seq: number }).seq))).to.deep.equal([[0, 1], [7, 8], [9]]);
  });
});
