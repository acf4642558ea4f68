// The Admin API (over HTTP), only to count the server's sessions before and after a run: what
// the run created must be gone afterwards.

import { isJsonObject } from '../../src/plugin/json';
import { BenchFailure, oneLine } from './errors';

/** Number of sessions the server has now (Admin API `list_sessions`). */
export async function adminSessionCount(url: string, secret: string, timeoutMs: number): Promise<number> {
  let reply: unknown;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ janus: 'list_sessions', transaction: 'luasfu-bench', admin_secret: secret }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    reply = await response.json();
  } catch (error) {
    throw new BenchFailure(`--admin-url ${url}: ${oneLine(error)}`);
  }
  if (!isJsonObject(reply) || !Array.isArray(reply.sessions)) {
    const error = isJsonObject(reply) && isJsonObject(reply.error) ? `error ${String(reply.error.code)}: ${String(reply.error.reason)}` : 'no session list';
    throw new BenchFailure(`--admin-url ${url}: list_sessions: ${error}`);
  }
  return reply.sessions.length;
}
