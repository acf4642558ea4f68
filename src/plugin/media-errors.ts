// What a media plane throws at the core, one class per failure (mediasoup's errors.ts is the
// model). The media plane knows nothing of Janus codes; the core maps these to its wire errors
// in one place (src/janus/errors.ts, toJanusError).

import { NamedError } from '../common/named-error';

/** A client or plugin SDP that is not usable SDP. `detail` says what is wrong with it. */
export class InvalidSdpError extends NamedError {
  constructor(readonly detail: string) {
    super(`invalid SDP (${detail})`);
  }
}

/** An answer where no offer is pending: the client answered without an offer, or the plugin answered with no client offer. */
export class UnexpectedAnswerError extends NamedError {}

/** The PeerConnection cannot do this now: it was closed, or closed while negotiating. */
export class InvalidStateError extends NamedError {}
