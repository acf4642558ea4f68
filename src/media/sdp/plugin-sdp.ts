// What pushEvent checks and records from a script's JSEP before the (asynchronous) merge
// (janus-contract §1 pushEvent): the SDP must parse, and for answers the first video codec
// is recorded (Janus 1.1.2 turns simulcast off unless it is VP8 or H.264).

import { parseCodecs } from './rtp-attributes';
import { parseSdp } from './sdp-text';

export interface PluginSdpSummary {
  /** Lower-case name of the first codec of the first video m-line with a port, e.g. "vp8". */
  firstVideoCodec?: string;
  /** Whether simulcast relaying stays on for this codec under Janus 1.1.2 rules. */
  simulcastCapable: boolean;
}

/** Throws JanusError 465 when the SDP does not parse (pushEvent then returns -1). */
export function inspectPluginSdp(sdp: string): PluginSdpSummary {
  const parsed = parseSdp(sdp);
  const video = parsed.media.find((m) => m.kind === 'video' && m.port > 0);
  const codec = video ? parseCodecs(video).find((c) => c.name.toLowerCase() !== 'rtx') : undefined;
  const name = codec?.name.toLowerCase();
  const out: PluginSdpSummary = { simulcastCapable: name === undefined || name === 'vp8' || name === 'h264' };
  if (name !== undefined) out.firstVideoCodec = name;
  return out;
}
