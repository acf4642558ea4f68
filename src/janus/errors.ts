// Janus API error codes and their default reasons (docs/contract.md §5.1). Codes are part of
// the wire contract: clients switch on them.

import { InvalidSdpError, InvalidStateError, UnexpectedAnswerError } from '../plugin/media-errors';
import { NamedError } from '../common/named-error';

export const JanusErrorCode = {
  UNAUTHORIZED: 403,
  UNAUTHORIZED_PLUGIN: 405,
  TRANSPORT_SPECIFIC: 450,
  MISSING_REQUEST: 452,
  UNKNOWN_REQUEST: 453,
  INVALID_JSON: 454,
  INVALID_JSON_OBJECT: 455,
  MISSING_MANDATORY_ELEMENT: 456,
  INVALID_REQUEST_PATH: 457,
  SESSION_NOT_FOUND: 458,
  HANDLE_NOT_FOUND: 459,
  PLUGIN_NOT_FOUND: 460,
  PLUGIN_ATTACH: 461,
  PLUGIN_MESSAGE: 462,
  PLUGIN_DETACH: 463,
  JSEP_UNKNOWN_TYPE: 464,
  JSEP_INVALID_SDP: 465,
  TRICKE_INVALID_STREAM: 466,
  INVALID_ELEMENT_TYPE: 467,
  SESSION_CONFLICT: 468,
  UNEXPECTED_ANSWER: 469,
  TOKEN_NOT_FOUND: 470,
  WEBRTC_STATE: 471,
  NOT_ACCEPTING_SESSIONS: 472,
  UNKNOWN: 490,
} as const;

export type JanusErrorCodeValue = (typeof JanusErrorCode)[keyof typeof JanusErrorCode];

/** An error that becomes a Janus `error` reply with this code and reason. */
export class JanusError extends NamedError {
  constructor(
    readonly code: JanusErrorCodeValue,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/**
 * The one place media-plane failures become Janus wire errors: a JanusError as it is, a named
 * media error with its code (465/469/471), undefined for anything else (the caller decides).
 */
export function toJanusError(error: unknown): JanusError | undefined {
  if (error instanceof JanusError) return error;
  if (error instanceof InvalidSdpError) return new JanusError(JanusErrorCode.JSEP_INVALID_SDP, `JSEP error: ${error.message}`);
  if (error instanceof UnexpectedAnswerError) return new JanusError(JanusErrorCode.UNEXPECTED_ANSWER, error.message);
  if (error instanceof InvalidStateError) return new JanusError(JanusErrorCode.WEBRTC_STATE, error.message);
  return undefined;
}
