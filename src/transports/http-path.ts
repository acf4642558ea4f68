// Pure parsing of Janus REST paths: `/janus`, `/janus/<session>`, `/janus/<session>/<handle>`
// (docs/contract.md §5.3). More than three levels, or anything outside the base path, is 404.

export type JanusPath =
  | { kind: 'not-found' }
  | { kind: 'ok'; session?: string; handle?: string };

export function parseJanusPath(url: string, basePath: string): JanusPath {
  const base = basePath.replace(/\/+$/, '') || '/';
  let rest: string;
  if (base === '/') {
    rest = url;
  } else if (url === base) {
    rest = '';
  } else if (url.startsWith(`${base}/`)) {
    rest = url.slice(base.length);
  } else {
    return { kind: 'not-found' };
  }
  const parts = rest.split('/').slice(1);
  const session = parts[0] ? parts[0] : undefined;
  const handle = session && parts[1] ? parts[1] : undefined;
  if (session && handle && parts.length > 2 && parts[2]) return { kind: 'not-found' };
  if (!session && parts.length > 1 && parts.slice(1).some((part) => part.length > 0)) return { kind: 'not-found' };
  return { kind: 'ok', session, handle };
}

/** A path id: a positive decimal integer within 2^53, else undefined (404). */
export function parsePathId(text: string): number | undefined {
  if (!/^[0-9]{1,16}$/.test(text)) return undefined;
  const id = Number(text);
  return id > 0 && Number.isSafeInteger(id) ? id : undefined;
}

/** `maxev` as Janus reads it (atoi; below 1 means 1). */
export function parseMaxEvents(text: string): number {
  const value = Number.parseInt(text, 10);
  if (!Number.isFinite(value) || value < 1) return 1;
  return Math.min(value, 1000);
}
