// The HTTP event backend on its own: the bounded queue drops the oldest events (with one
// warning) while the collector is stuck, and stop() flushes what is left; POSTs share one
// connection, and a collector that never answers costs timeoutMs per attempt.

import { expect } from 'chai';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, type Socket, createServer as createTcpServer } from 'node:net';
import { EventBus, type JanusEvent } from '../src/events/event-bus';
import { HttpEventBackend, type HttpEventBackendOptions, type HttpEventsConfig } from '../src/events/http-backend';
import { waitFor } from './lua-fixtures';
import { captureLogger } from './support/log-capture';

/** A backend POSTing to the server listening at `address` (flushMs 0), behind an EventBus. */
function backendTo(address: AddressInfo, logger: HttpEventBackendOptions['logger'], config: Partial<HttpEventsConfig>, maxQueue?: number): { backend: HttpEventBackend; bus: EventBus } {
  const backend = new HttpEventBackend({
    config: { url: `http://127.0.0.1:${address.port}/`, events: ['all'], grouping: true, maxBatch: 100, flushMs: 0, timeoutMs: 5000, retries: 0, headers: {}, ...config },
    logger,
    maxQueue,
  });
  return { backend, bus: new EventBus({ emitter: 'test', enabled: true, logger, backends: [backend] }) };
}

describe('event handlers: HTTP backend queue', function () {
  this.timeout(10000);
  let server: Server;
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
  });

  after(async () => {
    for (const res of held) res.end();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('keeps at most maxQueue events, dropping the oldest with a warning, and flushes on stop', async () => {
    const log = captureLogger();
    const { backend, bus } = backendTo(server.address() as AddressInfo, log.logger, { maxBatch: 2 }, 3);
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

  it('sends its POSTs one after the other over one kept-alive connection', async () => {
    const log = captureLogger();
    const received: number[] = [];
    let connections = 0;
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push(((JSON.parse(Buffer.concat(chunks).toString('utf8')) as JanusEvent).event.data as { seq: number }).seq);
        res.end();
      });
    });
    collector.on('connection', () => connections++);
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const { backend, bus } = backendTo(collector.address() as AddressInfo, log.logger, { grouping: false });
      for (let i = 0; i < 5; i++) bus.plugin({}, 'p', { seq: i });
      await waitFor(() => received.length === 5, 3000, 'five POSTs');
      await bus.stop();
      expect(received).to.deep.equal([0, 1, 2, 3, 4]);
      expect(backend.sent).to.equal(5);
      expect(connections).to.equal(1);
    } finally {
      collector.closeAllConnections();
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });

  it('gives up on a POST the collector accepts and never answers after timeoutMs, and drops the batch', async () => {
    const log = captureLogger();
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => { sockets.push(socket); socket.resume(); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { backend, bus } = backendTo(silent.address() as AddressInfo, log.logger, { timeoutMs: 300, retries: 1 });
      const started = performance.now();
      bus.plugin({}, 'p', { seq: 1 });
      await waitFor(() => backend.dropped === 1, 5000, 'the batch dropped');
      const elapsed = performance.now() - started;
      // Two attempts of 300 ms and a 100 ms backoff between them.
      expect(elapsed).to.be.within(600, 3000);
      expect(backend.sent).to.equal(0);
      expect(log.find('event handler collector unreachable')).to.have.length(1);
      await bus.stop();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
