import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Listens on a free loopback port and returns `http://127.0.0.1:<port>`. A closer is pushed on
 * `closers` that destroys the open connections (keep-alive ones included) and closes the server.
 */
export async function listenLoopback(server: Server, closers: Array<() => Promise<unknown>>): Promise<string> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
