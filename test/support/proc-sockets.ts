// Counts a process's sockets from /proc: its fds that are sockets, matched against the
// kernel's UDP and TCP tables (IPv4 and IPv6). Linux only, like mediasoup's workers here.

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface SocketCount {
  udp: number;
  /** TCP sockets in LISTEN state. */
  tcpListening: number;
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // The fd closed meanwhile.
    }
  }
  return inodes;
}

/** Rows of /proc/net/<table>: [state, inode]. */
function rows(table: string): Array<[string, string]> {
  let text: string;
  try {
    text = readFileSync(`/proc/net/${table}`, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').slice(1).filter((line) => line.trim()).map((line) => {
    const fields = line.trim().split(/\s+/);
    return [fields[3]!, fields[9]!];
  });
}

export function countSockets(pid: number): SocketCount {
  const mine = socketInodes(pid);
  const udp = [...rows('udp'), ...rows('udp6')].filter(([, inode]) => mine.has(inode)).length;
  // 0A = TCP_LISTEN.
  const tcpListening = [...rows('tcp'), ...rows('tcp6')].filter(([state, inode]) => state === '0A' && mine.has(inode)).length;
  return { udp, tcpListening };
}
