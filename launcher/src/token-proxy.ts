/**
 * A loopback reverse proxy that adds `Authorization: Bearer <token>` to every request it forwards to the RS —
 * the front door for test clients that connect without credentials (the official `conformance server` suite).
 * The RS behind it authenticates every request exactly as always: the proxy holds a real token obtained through
 * the IdP's real login flow; nothing in the RS is switched off. A request that already carries an Authorization
 * header is forwarded untouched (so a suite's own credential tests still reach the RS's checks).
 *
 * Streams (SSE) are piped both ways as they arrive; Host, Origin and every other header pass through unchanged,
 * so the RS's Origin (DNS-rebinding) checks see what the client sent.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenProxyOptions {
  /** The RS origin, e.g. http://127.0.0.1:3000. */
  readonly target: string;
  /** The current access token (called per request, so a refreshed token takes effect at once). */
  readonly token: () => string;
  /** Loopback port to listen on (0 = a free one). */
  readonly port?: number;
}

export interface TokenProxy {
  /** The proxy's origin (127.0.0.1 only). */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the proxy on 127.0.0.1. */
export async function startTokenProxy(opts: TokenProxyOptions): Promise<TokenProxy> {
  const target = new URL(opts.target);
  const server: Server = createServer(function forward(req: IncomingMessage, res: ServerResponse) {
    const headers = { ...req.headers };
    if (headers.authorization === undefined) headers.authorization = `Bearer ${opts.token()}`;
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      function relay(up) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', function upstreamFailed(err) {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${err.message}`);
      else res.destroy(err);
    });
    // A client that goes away (a closed SSE stream is a cancellation) closes the upstream request too.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
