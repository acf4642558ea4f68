// A minimal RTP packet (RFC 3550 fixed header, no CSRCs or extensions) for tests.

export function buildRtpPacket(fields: {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  payload: Uint8Array;
}): Buffer {
  const head = Buffer.alloc(12);
  head[0] = 0x80;
  head[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  head.writeUInt16BE(fields.sequenceNumber & 0xffff, 2);
  head.writeUInt32BE(fields.timestamp >>> 0, 4);
  head.writeUInt32BE(fields.ssrc >>> 0, 8);
  return Buffer.concat([head, Buffer.from(fields.payload)]);
}
