import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('no TCP address'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/**
 * `count` distinct TCP ports on 127.0.0.1 that were free a moment ago, none of them in `exclude`. All are held at
 * once while they are picked, so two calls of `freePort()` in a row cannot hand out the same port twice (the OS may
 * give a port back as soon as it is closed).
 */
export async function freePorts(count: number, exclude: readonly number[] = []): Promise<number[]> {
  const held: Array<ReturnType<typeof createServer>> = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const srv = createServer();
      srv.unref();
      held.push(srv);
      const port = await new Promise<number>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
          const addr = srv.address();
          if (addr === null || typeof addr === 'string') reject(new Error('no TCP address'));
          else resolve(addr.port);
        });
      });
      if (!exclude.includes(port)) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((srv) => new Promise<void>((resolve) => (srv.listening ? srv.close(() => resolve()) : resolve()))));
  }
}
