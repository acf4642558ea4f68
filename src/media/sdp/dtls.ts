// DTLS roles between SDP a=setup and mediasoup. mediasoup's transport.connect() takes the
// *remote* peer's role; mergeLocalSdp takes *ours*. Janus answers active unless the client
// offered active (janus-contract §3.1); DESIGN.md: active + connect role 'server' works,
// and so does passive + 'client'.

import type { DtlsSetup } from './client-sdp';

export type DtlsSide = 'client' | 'server';

/** Our DTLS role when answering a client offer with this a=setup. */
export function answererDtlsRole(clientSetup: DtlsSetup | undefined): DtlsSide {
  return clientSetup === 'active' ? 'server' : 'client';
}

/** The a=setup value we write for a role (offers always write actpass). */
export function setupForRole(role: DtlsSide): 'active' | 'passive' {
  return role === 'client' ? 'active' : 'passive';
}

/**
 * The role to pass in `transport.connect({ dtlsParameters: { role } })`: the client's.
 * After our answer, it is the opposite of ours. After our offer (actpass), the client's
 * answer decides: active → 'client', passive → 'server' (undefined/actpass: RFC 5763 says
 * the answerer should be active, so 'client').
 */
export function remoteDtlsRole(params: { weOffered: false; ourRole: DtlsSide } | { weOffered: true; clientSetup: DtlsSetup | undefined }): DtlsSide {
  if (!params.weOffered) return params.ourRole === 'client' ? 'server' : 'client';
  return params.clientSetup === 'passive' ? 'server' : 'client';
}
