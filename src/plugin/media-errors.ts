// What a media plane throws at the core, one class per failure (mediasoup's errors.ts is the
// model). The media plane knows nothing of Janus codes; the core maps these to its wire errors
// in one place (src/janus/errors.ts, toJanusError).

/** A client or plugin SDP that is not usable SDP. `detail` says what is wrong with it. */
export class InvalidSdpError extends Error {
  constructor(readonly detail: string) {
    super(`invalid SDP (${detail})`);
    this.name = 'InvalidSdpError';
  }
}

/** An answer where no offer is pending: the client answered without an offer, or the plugin answered with no client offer. */
export class UnexpectedAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnexpectedAnswerError';
  }
}

/** The PeerConnection cannot do this now: it was closed, or closed while negotiating. */
export class InvalidStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStateError';
  }
}
