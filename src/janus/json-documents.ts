// Splits one transport frame into the JSON documents it holds. Janus accepts several
// concatenated JSON objects in one WebSocket frame and processes them in order (§5.2).
// Parsing is strict: invalid UTF-8, and strings holding a lone surrogate or NUL (which C
// code and other JSON parsers treat differently), are malformed input.

import type { JsonValue } from '../plugin/json';

export type ParsedDocument = { ok: true; value: JsonValue } | { ok: false; error: string };

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** End index (exclusive) of the JSON value starting at `start`, or -1 if it never closes. */
function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first !== 0x7b /* { */ && first !== 0x5b /* [ */ && first !== 0x22 /* " */) {
    // A scalar: runs until whitespace or the start of another document.
    let i = start;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (isSpace(c) || c === 0x7b || c === 0x5b || c === 0x22) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22) {
        inString = false;
        if (depth === 0) return i + 1;
      }
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes as UTF-8 text; undefined when they are not valid UTF-8 (never replaced with U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** With the u flag a well-formed surrogate pair is one code point: only lone halves match. */
const FORBIDDEN_IN_STRINGS = /[\uD800-\uDFFF\u0000]/u;

/** Why a parsed value is refused (a key or string with a lone surrogate or NUL), else undefined. */
function badString(value: JsonValue): string | undefined {
  const stack: JsonValue[] = [value];
  while (stack.length > 0) {
    const item = stack.pop() as JsonValue;
    if (typeof item === 'string') {
      if (FORBIDDEN_IN_STRINGS.test(item)) return 'string with a lone surrogate or NUL';
    } else if (Array.isArray(item)) {
      stack.push(...item);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (FORBIDDEN_IN_STRINGS.test(key)) return 'key with a lone surrogate or NUL';
        stack.push(child);
      }
    }
  }
  return undefined;
}

/** `String.prototype.isWellFormed` (ES2024, in Node >= 20): no lone surrogate in the string. */
const isWellFormed = (String.prototype as unknown as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/**
 * Whether JSON.parse of `text` can yield a string with a lone surrogate or NUL. Raw NUL is
 * invalid JSON, so in a well-formed text (no lone surrogate of its own, as any strictly
 * decoded UTF-8 is) only a `\u` escape can make one: without one the tree needs no walk.
 */
function mayHoldBadString(text: string): boolean {
  if (text.indexOf('\\u') < 0) return isWellFormed === undefined || !isWellFormed.call(text);
  return true;
}

/** One JSON document, strictly: JSON.parse plus the string check. */
export function parseStrictJson(text: string): ParsedDocument {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const bad = mayHoldBadString(text) ? badString(value) : undefined;
  return bad ? { ok: false, error: bad } : { ok: true, value };
}

/**
 * Every document in `text`, in order. Parsing stops at the first invalid document (its
 * error is the last entry): the rest of the frame cannot be delimited reliably. Callers run
 * a frame only when every entry is ok (Janus refuses the whole frame).
 * An empty or all-whitespace text gives one error (nothing to process is malformed input).
 */
export function parseJsonDocuments(text: string, maxDocuments = 64): ParsedDocument[] {
  // The usual frame holds one document: when JSON.parse takes the whole text, the splitter
  // would have found exactly that one document (JSON.parse refuses anything after a value).
  // Otherwise the splitter runs and gives its own errors, as before.
  if (maxDocuments >= 1) {
    const whole = parseStrictJson(text);
    if (whole.ok) return [whole];
  }
  const out: ParsedDocument[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i >= text.length) break;
    if (out.length >= maxDocuments) {
      out.push({ ok: false, error: `more than ${maxDocuments} documents in one frame` });
      return out;
    }
    const end = valueEnd(text, i);
    if (end < 0) {
      out.push(parseStrictJson(text.slice(i)));
      if (out[out.length - 1].ok) out[out.length - 1] = { ok: false, error: 'unterminated document' };
      return out;
    }
    const parsed = parseStrictJson(text.slice(i, end));
    out.push(parsed);
    if (!parsed.ok) return out;
    i = end;
  }
  if (out.length === 0) out.push({ ok: false, error: 'empty request' });
  return out;
}
