// Which addresses the media (ICE) sockets use. Configured ones win; otherwise every
// non-loopback IPv4 address of the host, as Janus gathers host candidates on every interface,
// so a browser on another machine can reach us. A host with none gets loopback and a warning.

import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import type { MediaAddressConfig } from '../config';

export interface MediaAddresses {
  addresses: MediaAddressConfig[];
  /** Set when the defaults fell back to loopback (only local clients can reach the media). */
  warning?: string;
}

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

export function resolveMediaAddresses(configured: readonly MediaAddressConfig[], interfaces: Interfaces = networkInterfaces()): MediaAddresses {
  if (configured.length > 0) return { addresses: configured.map((address) => ({ ...address })) };
  const found: MediaAddressConfig[] = [];
  for (const list of Object.values(interfaces)) {
    for (const entry of list ?? []) {
      // IPv4 only (Janus's default ipv6 = false); link-local 169.254/16 is never routable.
      if (entry.internal || entry.family !== 'IPv4' || entry.address.startsWith('169.254.')) continue;
      if (!found.some((address) => address.ip === entry.address)) found.push({ ip: entry.address });
    }
  }
  if (found.length > 0) return { addresses: found };
  return {
    addresses: [{ ip: '127.0.0.1' }],
    warning: 'the host has no non-loopback IPv4 address: media listens on 127.0.0.1, only local clients can connect (set media.listenIps or --rtc-ip/--announced-ip)',
  };
}
