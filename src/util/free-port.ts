// A port the kernel just handed out on `host`, closed again for the caller. uSockets sets SO_REUSEADDR/SO_REUSEPORT
// only for a named port, so the worker threads (and tests that restart a server on the same port) need a concrete
// one; the tiny window in which another process could take it is acceptable for an ephemeral port.

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
