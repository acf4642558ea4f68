// Checks the worker makes so host calls can return their result synchronously to the script:
// event JSON as jansson would load it, and the SDP of a JSEP as Janus's SDP parser would.

const decoder = new TextDecoder('utf-8');

export type JsonDocumentKind = 'object' | 'array' | 'invalid';

/** jansson's json_loads without JSON_DECODE_ANY: only an object or an array parses. */
export function jsonDocumentKind(bytes: Uint8Array): { kind: JsonDocumentKind; value?: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return { kind: 'invalid' };
  }
  if (Array.isArray(value)) return { kind: 'array', value };
  if (typeof value === 'object' && value !== null) return { kind: 'object', value };
  return { kind: 'invalid' };
}

const O_LINE = /^o=\S+ \d+ \d+ IN IP[46] \S+$/;
const M_LINE = /^m=\S+ \d+(\/\d+)? \S+( .*)?$/;

/** A lenient version of janus_sdp_parse's checks: every line `x=...`, a valid o= and m= lines. */
export function sdpParses(sdp: string): boolean {
  const lines = sdp.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.length > 0);
  if (lines.length === 0 || !lines[0].startsWith('v=')) return false;
  for (const line of lines) {
    if (line.length < 3 || line[1] !== '=') return false;
    if (line[0] === 'o' && !O_LINE.test(line)) return false;
    if (line[0] === 'm' && !M_LINE.test(line)) return false;
  }
  return true;
}

/** A script JSEP: must parse to an object whose `sdp` is a string the SDP parser accepts. */
export function jsepValid(bytes: Uint8Array): boolean {
  const { kind, value } = jsonDocumentKind(bytes);
  if (kind !== 'object') return false;
  const sdp = (value as Record<string, unknown>).sdp;
  return typeof sdp === 'string' && sdpParses(sdp);
}
