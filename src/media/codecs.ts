// The codecs every router offers, taken from the one codec list (src/common/codecs.ts).
// Payload types here are the router's own; with our worker edits each Consumer sends with the
// payload types its recipient negotiated, so the router's numbering never reaches a client.

import type { RtpCodecCapability } from 'mediasoup/node/lib/RtpParameters';
import { codecNamed } from '../common/codecs';

type Parameters = NonNullable<RtpCodecCapability['parameters']>;

/** A router codec from the list's MIME type and clock rate. */
function routerCodec(name: string, parameters?: Parameters, channels?: number): RtpCodecCapability {
  const entry = codecNamed(name);
  if (!entry?.mimeType || entry.clockRate === undefined || entry.medium === 'data') throw new Error(`no RTP codec named ${name}`);
  const codec: RtpCodecCapability = { kind: entry.medium, mimeType: entry.mimeType, clockRate: entry.clockRate };
  if (channels !== undefined) codec.channels = channels;
  if (parameters !== undefined) codec.parameters = parameters;
  return codec;
}

/** The H.264 variants browsers offer: packetization mode and profile-level-id. */
function h264(packetizationMode: 0 | 1, profileLevelId: string): RtpCodecCapability {
  return routerCodec('h264', { 'packetization-mode': packetizationMode, 'profile-level-id': profileLevelId, 'level-asymmetry-allowed': 1 });
}

export const ROUTER_MEDIA_CODECS: RtpCodecCapability[] = [
  routerCodec('opus', undefined, 2),
  routerCodec('pcmu'),
  routerCodec('pcma'),
  routerCodec('g722'),
  routerCodec('vp8'),
  routerCodec('vp9', { 'profile-id': 0 }),
  routerCodec('vp9', { 'profile-id': 2 }),
  h264(1, '42e01f'),
  h264(0, '42e01f'),
  h264(1, '4d001f'),
  h264(1, '64001f'),
];
