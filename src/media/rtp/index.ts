// RTP/RTCP utilities: header parsing and editing, RTCP feedback, the switching context and
// codec payload inspection. Everything here is pure (Buffers in, values or Buffers out).
export * from './rtp';
export * from './rtcp';
export * from './switching';
export * from './codecs';
