// The SDP layer of the media plane: pure functions only (no I/O, no mediasoup objects).
export * from './sdp-text';
export * from './rtp-attributes';
export * from './anonymise';
export * from './client-sdp';
export * from './local-ssrcs';
export * from './merge';
export * from './negotiation';
export * from './dtls';
export * from './plugin-sdp';
