// Pure Janus API protocol helpers (docs/contract.md §5.1): reply and event builders, request
// field validation with Janus's exact error texts, and id extraction. No I/O; the only state is
// the pool of random bytes ids are drawn from.

import { randomFillSync, randomInt, timingSafeEqual } from 'node:crypto';
import type { JsonObject, JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import { JanusError, JanusErrorCode, type JanusErrorCodeValue } from './errors';

/** Default reasons, as janus_get_api_error() words them. */
export const DEFAULT_REASONS: Record<JanusErrorCodeValue, string> = {
  403: 'Unauthorized request (wrong or missing secret/token)',
  405: 'Unauthorized access to plugin (token is not allowed to)',
  450: 'Transport specific error',
  452: 'Missing request',
  453: 'Unknown request',
  454: 'Invalid JSON',
  455: 'Invalid JSON Object',
  456: 'Missing mandatory element',
  457: 'Invalid path for this request',
  458: 'Session not found',
  459: 'Handle not found',
  460: 'Plugin not found',
  461: 'Error attaching plugin',
  462: 'Error sending message to plugin',
  463: 'Error detaching from plugin',
  464: 'Unsupported JSEP type',
  465: 'Invalid SDP',
  466: 'Invalid stream',
  467: 'Invalid element type',
  468: 'Session ID already in use',
  469: 'Unexpected ANSWER (no OFFER)',
  470: 'Token not found',
  471: 'Wrong WebRTC state',
  472: 'Currently not accepting new sessions',
  490: 'Unknown error',
};

/** A JanusError with the default reason for its code. */
export function janusError(code: JanusErrorCodeValue, reason?: string): JanusError {
  return new JanusError(code, reason ?? DEFAULT_REASONS[code]);
}

/** `{janus, session_id?, transaction?}`: janus_create_message(); session_id only when > 0. */
export function baseMessage(janus: string, sessionId: number, transaction: string | undefined): JsonObject {
  const message: JsonObject = { janus };
  if (sessionId > 0) message.session_id = sessionId;
  if (transaction !== undefined) message.transaction = transaction;
  return message;
}

export function errorReply(
  sessionId: number,
  transaction: string | undefined,
  code: number,
  reason: string,
): JsonObject {
  const reply = baseMessage('error', sessionId, transaction);
  reply.error = { code, reason };
  return reply;
}

/** Ids of a request: only JSON integers count; null or other types count as absent (0). */
export interface RequestIds {
  sessionId: number;
  handleId: number;
  /** `handle_id` was present (non-null), even if not a valid integer. */
  handlePresent: boolean;
}

function integerOrZero(value: JsonValue | undefined): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : 0;
}

export function requestIds(request: JsonObject): RequestIds {
  const handle = request.handle_id;
  return {
    sessionId: integerOrZero(request.session_id),
    handleId: integerOrZero(handle),
    handlePresent: handle !== undefined && handle !== null,
  };
}

/** `index`: an integer from 0 to 2^31-1 (a C int on the plugin side, e.g. loop_index). */
type FieldType = 'string' | 'object' | 'array' | 'boolean' | 'integer' | 'positive integer' | 'index';

const INDEX_MAX = 2 ** 31 - 1;

function typeMatches(value: JsonValue, type: FieldType): boolean {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'object': return isJsonObject(value);
    case 'array': return Array.isArray(value);
    case 'boolean': return typeof value === 'boolean';
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'positive integer': return typeof value === 'number' && Number.isInteger(value) && value > 0;
    case 'index': return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= INDEX_MAX;
  }
}

function article(type: FieldType): string {
  if (type === 'index') return `an integer from 0 to ${INDEX_MAX}`;
  return type === 'array' || type === 'object' || type === 'integer' ? `an ${type}` : `a ${type}`;
}

export interface FieldRule {
  name: string;
  type: FieldType;
  required?: boolean;
}

/**
 * JANUS_VALIDATE_JSON_OBJECT: 456 "Missing mandatory element (x)" / 467 "Invalid element type
 * (x should be a string)". `prefix` gives the JSEP variant ("JSEP error: missing ...").
 */
export function validateFields(object: JsonObject, rules: readonly FieldRule[], prefix?: string): void {
  for (const rule of rules) {
    const value = object[rule.name];
    if (value === undefined) {
      if (rule.required) {
        throw janusError(
          JanusErrorCode.MISSING_MANDATORY_ELEMENT,
          prefix ? `${prefix}: missing mandatory element (${rule.name})` : `Missing mandatory element (${rule.name})`,
        );
      }
      continue;
    }
    if (!typeMatches(value, rule.type)) {
      throw janusError(
        JanusErrorCode.INVALID_ELEMENT_TYPE,
        prefix
          ? `${prefix}: invalid element type (${rule.name} should be ${article(rule.type)})`
          : `Invalid element type (${rule.name} should be ${article(rule.type)})`,
      );
    }
  }
}

export const REQUEST_RULES: readonly FieldRule[] = [
  { name: 'transaction', type: 'string', required: true },
  { name: 'janus', type: 'string', required: true },
  { name: 'id', type: 'positive integer' },
];

export const ADMIN_REQUEST_RULES: readonly FieldRule[] = [
  { name: 'transaction', type: 'string', required: true },
  { name: 'janus', type: 'string', required: true },
];

export const ATTACH_RULES: readonly FieldRule[] = [
  { name: 'plugin', type: 'string', required: true },
  { name: 'opaque_id', type: 'string' },
  { name: 'loop_index', type: 'index' },
];

export const BODY_RULES: readonly FieldRule[] = [{ name: 'body', type: 'object', required: true }];

export const JSEP_RULES: readonly FieldRule[] = [
  { name: 'type', type: 'string', required: true },
  { name: 'sdp', type: 'string', required: true },
  { name: 'trickle', type: 'boolean' },
  { name: 'rid_order', type: 'string' },
  { name: 'force_relay', type: 'boolean' },
  { name: 'e2ee', type: 'boolean' },
];

// CSPRNG output drawn 64 ids at a time (each 8 bytes used once): randomBytes(8) per id took
// ~5 us (a buffer and a BigInt each), this ~0.1-0.3 us (100,000 ids, 3 runs).
const ID_POOL = Buffer.alloc(512);
let idPoolOffset = ID_POOL.length;

/**
 * Ids are random integers masked to 53 bits, never 0 (safe in JS and in JSON). They come from
 * the OS CSPRNG: an id is a bearer credential, and Math.random's state can be recovered from
 * a handful of its outputs.
 */
export function randomId53(): number {
  for (;;) {
    if (idPoolOffset === ID_POOL.length) {
      randomFillSync(ID_POOL);
      idPoolOffset = 0;
    }
    // The top 53 of 64 random bits: 32 high bits, then 21.
    const id = ID_POOL.readUInt32BE(idPoolOffset) * 2 ** 21 + (ID_POOL.readUInt32BE(idPoolOffset + 4) >>> 11);
    idPoolOffset += 8;
    if (id > 0) return id;
  }
}

/** Unique id not in `taken`. Bounded: collisions in 2^53 are astronomically rare. */
export function uniqueId(taken: (id: number) => boolean): number {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const id = randomId53();
    if (!taken(id)) return id;
  }
  throw new Error('could not draw a unique id');
}

/** Random alphanumeric string (Janus's transport-made transactions), from the CSPRNG. */
export function randomString(length: number): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < length; i++) out += chars[randomInt(chars.length)];
  return out;
}

/** Constant-time comparison of a request's secret (apisecret / admin_secret). */
export function secretMatches(given: JsonValue | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
