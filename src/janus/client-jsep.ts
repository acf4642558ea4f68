// Validation of the JSEP a client attaches to a `message` (janus.c jsep_parameters).

import type { ClientJsep } from '../plugin/media-plane';
import type { JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import { JanusErrorCode } from './errors';
import { JSEP_RULES, janusError, validateFields } from './protocol';

/** A client JSEP: 455 when not an object, 456/467 for its fields, 464 for an unknown type. */
export function parseClientJsep(value: JsonValue): ClientJsep {
  if (!isJsonObject(value)) throw janusError(JanusErrorCode.INVALID_JSON_OBJECT, 'Invalid jsep object');
  validateFields(value, JSEP_RULES, 'JSEP error');
  const typeText = value.type as string;
  const type = typeText.toLowerCase();
  if (type !== 'offer' && type !== 'answer') {
    throw janusError(JanusErrorCode.JSEP_UNKNOWN_TYPE, `JSEP error: unknown message type '${typeText}'`);
  }
  const jsep: ClientJsep = { type, sdp: value.sdp as string };
  if (typeof value.trickle === 'boolean') jsep.trickle = value.trickle;
  if (value.rid_order === 'hml' || value.rid_order === 'lmh') jsep.rid_order = value.rid_order;
  if (typeof value.force_relay === 'boolean') jsep.force_relay = value.force_relay;
  if (typeof value.e2ee === 'boolean') jsep.e2ee = value.e2ee;
  return jsep;
}
