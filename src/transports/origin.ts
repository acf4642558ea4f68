// Which browser origins may use an API (the Admin API's CORS and WebSocket Origin check).
// Browsers always send Origin on cross-origin requests and WebSocket upgrades; non-browser
// clients (janode, curl, scripts) send none and are not subject to it.

export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.allowed = new Set(origins.map((origin) => origin.toLowerCase().replace(/\/+$/, '')));
  }

  /** Whether a request carrying this Origin header may proceed. */
  allows(origin: string): boolean {
    return this.allowed.has(origin.toLowerCase());
  }
}
