// Janus's token authentication (janus auth.c): either stored tokens, managed through the
// Admin API and each limited to a set of plugins, or (with a secret) signed tokens
// `expiry,realm,plugin1,plugin2:base64(HMAC-SHA1(secret, "expiry,realm,plugin1,plugin2"))`
// that expire and name the plugins they may attach to. The realm of the Janus API is `janus`.

import { createHmac } from 'node:crypto';
import { secretMatches } from './protocol';

export type TokenAuthMode = 'off' | 'stored' | 'signed';

export interface TokenAuthOptions {
  /** `token_auth`. */
  enabled: boolean;
  /** `token_auth_secret`: signed tokens instead of stored ones. */
  secret?: string;
  /** Wall clock in seconds (tests move it). */
  nowSeconds?: () => number;
}

/** The realm Janus checks signed tokens against for the Janus API. */
export const JANUS_REALM = 'janus';

interface SignedToken {
  expiry: number;
  realm: string;
  plugins: string[];
}

export class TokenAuth {
  readonly mode: TokenAuthMode;
  /** Stored tokens and the plugins each may attach to. */
  private readonly stored = new Map<string, Set<string>>();
  private readonly nowSeconds: () => number;

  constructor(private readonly options: TokenAuthOptions) {
    this.mode = !options.enabled ? 'off' : options.secret ? 'signed' : 'stored';
    this.nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  get enabled(): boolean {
    return this.mode !== 'off';
  }

  /** Whether `token` authenticates a request (a stored token, or a valid unexpired signature). */
  valid(token: unknown): boolean {
    if (typeof token !== 'string') return false;
    if (this.mode === 'stored') return this.stored.has(token);
    if (this.mode === 'signed') return this.verify(token) !== undefined;
    return false;
  }

  /** Whether `token` may attach to `plugin`. */
  allows(token: string, plugin: string): boolean {
    if (this.mode === 'stored') return this.stored.get(token)?.has(plugin) ?? false;
    if (this.mode === 'signed') return this.verify(token)?.plugins.includes(plugin) ?? false;
    return false;
  }

  private verify(token: string): SignedToken | undefined {
    const secret = this.options.secret as string;
    const parts = token.split(':');
    if (parts.length !== 2) return undefined;
    const [data, signature] = parts as [string, string];
    const fields = data.split(',');
    if (fields.length < 2 || !/^[0-9]{1,12}$/.test(fields[0] as string)) return undefined;
    const expiry = Number(fields[0]);
    if (this.nowSeconds() > expiry || fields[1] !== JANUS_REALM) return undefined;
    const expected = createHmac('sha1', secret).update(data).digest('base64');
    if (!secretMatches(signature, expected)) return undefined;
    return { expiry, realm: fields[1], plugins: fields.slice(2) };
  }

  // ---- stored tokens (Admin API) -----------------------------------------------------------

  list(): Array<{ token: string; plugins: string[] }> {
    return [...this.stored].map(([token, plugins]) => ({ token, plugins: [...plugins] }));
  }

  has(token: string): boolean {
    return this.stored.has(token);
  }

  /** Adds (or replaces) a token allowed to use `plugins`. */
  add(token: string, plugins: readonly string[]): string[] {
    this.stored.set(token, new Set(plugins));
    return plugins.slice();
  }

  /** The token's plugins after adding `plugins`; undefined when the token is unknown. */
  allow(token: string, plugins: readonly string[]): string[] | undefined {
    const set = this.stored.get(token);
    if (!set) return undefined;
    for (const plugin of plugins) set.add(plugin);
    return [...set];
  }

  /** The token's plugins after removing `plugins`; undefined when the token is unknown. */
  disallow(token: string, plugins: readonly string[]): string[] | undefined {
    const set = this.stored.get(token);
    if (!set) return undefined;
    for (const plugin of plugins) set.delete(plugin);
    return [...set];
  }

  remove(token: string): boolean {
    return this.stored.delete(token);
  }
}
