/**
 * Serves a fake network's handlers over real HTTP on loopback, so that the CLI (a subprocess) can be pointed at a
 * test double: each request becomes a real Request for the fake, its Response is written back as it is.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FetchLike } from '../src/http.ts';

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** What answers; set after listening, since the fake needs to know its origin first. */
  handle(fetch: FetchLike): void;
  close(): Promise<void>;
}

export async function listenLoopback(): Promise<LoopbackServer> {
  let handler: FetchLike | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          if (!handler) throw new Error('no handler yet');
          const headers = new Headers();
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
          const body = chunks.length ? Buffer.concat(chunks) : undefined;
          const response = await handler(`${origin}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(body && req.method !== 'GET' ? { body } : {}) });
          const out: Record<string, string> = {};
          response.headers.forEach((v, k) => (out[k] = v));
          res.writeHead(response.status, out);
          res.end(Buffer.from(await response.arrayBuffer()));
        } catch (err) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    handle(fetch) {
      handler = fetch;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
