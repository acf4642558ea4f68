// Trickle candidate validation (janus_ice_trickle_parse): pure, Janus's error texts.

import type { TrickleCandidate } from '../plugin/media-plane';
import type { JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import { JanusErrorCode } from './errors';
import { janusError } from './protocol';

/** One trickled candidate: null (or `{completed:true}`) means end of candidates. */
export function parseTrickleCandidate(value: JsonValue): TrickleCandidate | null {
  if (value === null) return null;
  if (isJsonObject(value) && value.completed === true) return null;
  const object = isJsonObject(value) ? value : {};
  const mid = object.sdpMid;
  if (mid !== undefined && typeof mid !== 'string') {
    throw janusError(JanusErrorCode.INVALID_ELEMENT_TYPE, 'Trickle error: invalid element type (sdpMid should be a string)');
  }
  const mline = object.sdpMLineIndex;
  if (mline !== undefined && (typeof mline !== 'number' || !Number.isInteger(mline) || mline < 0)) {
    throw janusError(
      JanusErrorCode.INVALID_ELEMENT_TYPE,
      'Trickle error: invalid element type (sdpMLineIndex should be a positive integer)',
    );
  }
  if (mid === undefined && mline === undefined) {
    throw janusError(JanusErrorCode.MISSING_MANDATORY_ELEMENT, 'Trickle error: missing mandatory element (sdpMid or sdpMLineIndex)');
  }
  const candidate = object.candidate;
  if (candidate === undefined) {
    throw janusError(JanusErrorCode.MISSING_MANDATORY_ELEMENT, 'Trickle error: missing mandatory element (candidate)');
  }
  if (typeof candidate !== 'string') {
    throw janusError(JanusErrorCode.INVALID_ELEMENT_TYPE, 'Trickle error: invalid element type (candidate should be a string)');
  }
  const out: TrickleCandidate = { candidate };
  if (typeof mid === 'string') out.sdpMid = mid;
  if (typeof mline === 'number') out.sdpMLineIndex = mline;
  return out;
}

/**
 * The `trickle` request body: exactly one of `candidate` / `candidates`. A malformed single
 * candidate is an error; malformed entries of an array are skipped, as Janus does.
 */
export function parseTrickleRequest(request: { candidate?: JsonValue; candidates?: JsonValue }): Array<TrickleCandidate | null> {
  const { candidate, candidates } = request;
  if (candidate === undefined && candidates === undefined) {
    throw janusError(JanusErrorCode.MISSING_MANDATORY_ELEMENT, 'Missing mandatory element (candidate|candidates)');
  }
  if (candidate !== undefined && candidates !== undefined) {
    throw janusError(JanusErrorCode.INVALID_JSON, "Can't have both candidate and candidates");
  }
  if (candidate !== undefined) return [parseTrickleCandidate(candidate)];
  if (!Array.isArray(candidates)) {
    throw janusError(JanusErrorCode.INVALID_ELEMENT_TYPE, 'candidates is not an array');
  }
  const out: Array<TrickleCandidate | null> = [];
  for (const entry of candidates) {
    try {
      out.push(parseTrickleCandidate(entry));
    } catch {
      // Janus: "We don't care if any trickle fails to parse".
    }
  }
  return out;
}
