// The server's own clock for each join, from its event handlers: with --events-port the bench
// listens on 127.0.0.1 for the JSON events a server POSTs (Janus's sample event handler and
// luasfu's eventHandlers.http send the same documents, one event or an array of them), keeps
// the timestamps of the jsep (type 8) and webrtc (type 16) events of each handle, and splits
// offer -> webrtcup into what the server saw: the offer's event, the answer's, ICE connected,
// DTLS connected, webrtcup. The client's figures include its own event loop; these do not.

import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { isJsonObject } from '../../src/plugin/json';
import { BenchFailure } from './errors';

/** A POST body above this is refused (413): a batch of 100 jsep events with their SDP is ~0.5 MB. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Handles remembered at most; events of further handles are ignored. */
const MAX_HANDLES = 100_000;

const JSEP_EVENT = 8;
const WEBRTC_EVENT = 16;

/** A join's event timestamps on the server's clock, in µs (each the first of its kind). */
export interface JoinTimes {
  offer?: number;
  answer?: number;
  ice?: number;
  dtls?: number;
  up?: number;
}

/** A join as the server saw it, in ms. */
export interface ServerJoinPhases {
  /**
   * The offer's jsep event -> the answer's: the plugin's work and the answer's merge. Janus and
   * luasfu both emit the offer's event once they have processed it (Janus: parsed, ICE set up;
   * luasfu: parsed, its transport made), so each server's time for that comes on top.
   */
  answer: number;
  /** The answer out -> ICE connected: the client applying the answer, then the checks. */
  ice: number;
  /** ICE connected -> DTLS connected. */
  dtls: number;
  /** DTLS connected -> webrtcup. */
  webrtcup: number;
  /** The offer in -> webrtcup. */
  total: number;
}

/** Folds one event into `joins`; anything that is not a jsep or webrtc event of a handle is ignored. */
export function recordEvent(joins: Map<number, JoinTimes>, event: unknown): void {
  if (!isJsonObject(event)) return;
  const { type, timestamp, handle_id: handle } = event;
  if ((type !== JSEP_EVENT && type !== WEBRTC_EVENT) || typeof timestamp !== 'number' || typeof handle !== 'number') return;
  const body = event.event;
  if (!isJsonObject(body)) return;
  let times = joins.get(handle);
  if (!times) {
    if (joins.size >= MAX_HANDLES) return;
    times = {};
    joins.set(handle, times);
  }
  if (type === JSEP_EVENT) {
    const jsep = isJsonObject(body.jsep) ? body.jsep : undefined;
    if (body.owner === 'remote' && jsep?.type === 'offer') times.offer ??= timestamp;
    else if (body.owner === 'local' && jsep?.type === 'answer') times.answer ??= timestamp;
  } else if (body.ice === 'connected') {
    times.ice ??= timestamp;
  } else if (body.dtls === 'connected') {
    times.dtls ??= timestamp;
  } else if (body.connection === 'webrtcup') {
    times.up ??= timestamp;
  }
}

/** The phases of a join whose five events all arrived, else undefined. */
export function serverPhases(t: JoinTimes): ServerJoinPhases | undefined {
  if (t.offer === undefined || t.answer === undefined || t.ice === undefined || t.dtls === undefined || t.up === undefined) return undefined;
  const ms = (from: number, to: number): number => Number(((to - from) / 1000).toFixed(3));
  return { answer: ms(t.offer, t.answer), ice: ms(t.answer, t.ice), dtls: ms(t.ice, t.dtls), webrtcup: ms(t.dtls, t.up), total: ms(t.offer, t.up) };
}

export class ServerEventCollector {
  private readonly joins = new Map<number, JoinTimes>();

  private constructor(private readonly server: Server) {}

  /** Listens on 127.0.0.1:port; the server under test must be configured to POST its events there. */
  static listen(port: number): Promise<ServerEventCollector> {
    return new Promise((resolve, reject) => {
      let collector: ServerEventCollector | undefined;
      const server = createServer((req, res) => collector?.receive(req, res));
      collector = new ServerEventCollector(server);
      server.once('error', (error) => reject(new BenchFailure(`--events-port ${port}: ${error.message}`)));
      server.listen(port, '127.0.0.1', () => resolve(collector));
      // Never what keeps the bench running: it exits when the scenario is done, closed or not.
      server.unref();
    });
  }

  /** A handle's event timestamps so far (µs on the server's wall clock), if any arrived. */
  times(handle: number): Readonly<JoinTimes> | undefined {
    return this.joins.get(handle);
  }

  /** The phases of these handles, for those whose events all arrived. */
  phases(handles: readonly number[]): ServerJoinPhases[] {
    return handles.map((h) => this.joins.get(h)).flatMap((t) => {
      const p = t && serverPhases(t);
      return p ? [p] : [];
    });
  }

  /**
   * Waits until every handle's webrtcup event arrived (event handlers batch: luasfu flushes
   * every flushMs, 250 ms by default), at most `timeoutMs`, checking every 50 ms.
   */
  async settle(handles: readonly number[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!signal.aborted && Date.now() < deadline && !handles.every((h) => this.joins.get(h)?.up !== undefined)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      for (const event of Array.isArray(body) ? body : [body]) recordEvent(this.joins, event);
      res.writeHead(200).end();
    });
    req.on('error', () => undefined);
  }
}
