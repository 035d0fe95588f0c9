// Is host:port free? A plain node:net listen (no SO_REUSEPORT), closed again, before any uWebSockets.js listener
// exists. uWS sets SO_REUSEPORT on every named port so that our own worker threads can share it, which also lets a
// second server on the same port start silently and take half the connections; this probe refuses that instead.
// Port 0 asks the kernel for a free port, which the caller then names to every worker thread.

import { createServer } from 'node:net';

export class PortError extends Error {
  override name = 'PortError';
}

/** Resolves with the port (the kernel's choice for 0); rejects with a PortError that says what to do. */
export function probePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      if (err.code === 'EADDRINUSE') reject(new PortError(`port ${port} is in use (${where}) → stop the other server or pick another port with --port or PORT=…`));
      else if (err.code === 'EACCES') reject(new PortError(`not allowed to listen on ${where} (ports below 1024 need privileges) → pick another port with --port or PORT=…`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new PortError(`cannot listen on ${where}: ${host} is not an address of this machine → use --host or HOST=…`));
      else reject(new PortError(`cannot listen on ${where}: ${err.message}`));
    });
    probe.listen({ host, port, exclusive: true }, () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new PortError('the port probe got no address'))));
    });
  });
}
