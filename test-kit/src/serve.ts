/**
 * Serves a fetch-style handler (`Request` → `Response`, what a fake on the fake network also is) on a real loopback
 * socket, so that one fake serves unit tests (passed as `fetch`) and subprocess tests (a real port) alike. The
 * node:http ↔ fetch adaptation is @hono/node-server's.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';

export type Handler = (request: Request) => Response | Promise<Response>;

export interface Served {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Listens on a free loopback port and answers every request with `handler`. */
export async function serve(handler: Handler): Promise<Served> {
  const server = createServer(getRequestListener((request) => handler(request)));
  await listen(server);
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, close: () => closeServer(server) };
}

/** Listens on port 0 on 127.0.0.1 and resolves with the port. */
export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Closes the server and every connection still open on it (SSE streams, keep-alive sockets). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

/** A JSON response as an OAuth endpoint sends it (`cache-control: no-store`, RFC 6749 §5.1). */
export function json(body: unknown, status = 200, headers: Readonly<Record<string, string>> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });
}
