// The one startup log line: where the Janus API, the Admin API and the media listen, so a
// misconfigured address shows up in the first line an operator reads.

import type { LuasfuConfig } from './config';
import type { MediaSocketAddress } from './plugin/media-plane';
import type { ListeningPorts } from './server';

export interface StartupSummary {
  api: string[];
  admin: string[];
  media: string[];
  /** The ops listener's metrics URL (/health and /ready beside it); empty when off. */
  ops: string[];
}

function hostOf(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

/** `udp 192.0.2.1:40000`, with ` announced as 203.0.113.7` behind NAT. */
export function describeMediaSocket(socket: MediaSocketAddress): string {
  const text = `${socket.protocol} ${hostOf(socket.ip)}:${socket.port}`;
  return socket.announcedIp ? `${text} announced as ${socket.announcedIp}` : text;
}

export function startupSummary(config: LuasfuConfig, ports: ListeningPorts, media: readonly MediaSocketAddress[]): StartupSummary {
  const host = hostOf(config.listenIp);
  const adminHost = hostOf(config.adminListenIp);
  const [http, ws] = config.tls ? ['https', 'wss'] : ['http', 'ws'];
  const api: string[] = [];
  const admin: string[] = [];
  if (ports.http !== undefined) api.push(`${http}://${host}:${ports.http}${config.http.path}`);
  if (ports.websocket !== undefined) api.push(`${ws}://${host}:${ports.websocket}`);
  if (ports.adminHttp !== undefined) admin.push(`${http}://${adminHost}:${ports.adminHttp}${config.adminHttp.path}`);
  if (ports.adminWebsocket !== undefined) admin.push(`${ws}://${adminHost}:${ports.adminWebsocket}`);
  const ops = ports.metrics !== undefined ? [`http://${hostOf(config.metrics.listenIp)}:${ports.metrics}${config.metrics.path}`] : [];
  return { api, admin, media: media.map(describeMediaSocket), ops };
}
