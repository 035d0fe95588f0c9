// One free-port helper: a port the kernel just handed out on the loopback address, closed again for the caller.
// (uSockets sets no SO_REUSEADDR for port 0 and shares a port between threads only when it is named, so tests that
// restart a server on the same port, or start worker threads, ask for a concrete port here.)

import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}
