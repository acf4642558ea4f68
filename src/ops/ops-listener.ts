// The operations listener (node:http, default 127.0.0.1:9464): GET /metrics (Prometheus text),
// /health and /ready. Separate from the Janus API listeners so it can stay on loopback or a
// management network, and plain HTTP since Prometheus scrapes it there.

import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { Logger } from '../log';
import { listenHttp } from '../transports/http';
import type { Listener } from '../transports/uws';
import type { HealthAnswer, HealthCheck } from './health';
import type { LuasfuMetrics } from './metrics';

export interface OpsListenerOptions {
  host: string;
  port: number;
  /** Path of the metrics, e.g. /metrics. */
  metricsPath: string;
  metrics: LuasfuMetrics;
  health: HealthCheck;
  logger: Logger;
}

export class OpsListener {
  private listener: Listener | undefined;
  private readonly log: Logger;

  constructor(private readonly options: OpsListenerOptions) {
    this.log = options.logger.child({ component: 'ops' });
  }

  /** Listens (exclusively, as every listener); resolves with the real port. Rejects with ListenError. */
  async start(): Promise<number> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        this.log.error('ops request failed', { error: error as Error });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.listener = await listenHttp(server, this.options.host, this.options.port);
    this.log.info('ops listener started', { host: this.options.host, port: this.listener.port, metrics: this.options.metricsPath });
    return this.listener.port;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === this.options.metricsPath) {
      const text = await this.options.metrics.text();
      res.writeHead(200, { 'Content-Type': this.options.metrics.contentType }).end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (path === '/health') return this.answer(res, this.options.health.health());
    if (path === '/ready') return this.answer(res, this.options.health.ready());
    res.writeHead(404).end();
  }

  private answer(res: ServerResponse, answer: HealthAnswer): void {
    res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(answer.body));
  }

  close(): void {
    this.listener?.close();
    this.listener = undefined;
  }
}
