// Starting a server child for a benchmark: free ports on 127.0.0.1 and a bounded wait until
// the server accepts connections.

import { createServer, connect } from 'node:net';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (closed again before use; fine for a benchmark). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
  });
}

/** Whether `port` on 127.0.0.1 accepts within 30 s (tried every 100 ms while the server has not exited). */
export async function waitUntilListening(port: number, exited: () => boolean): Promise<boolean> {
  for (let i = 0; i < 300 && !exited(); i++) {
    if (await canConnect(port)) return true;
    await sleep(100);
  }
  return false;
}
