import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadGatewayError } from './errors.ts';

export interface ProxyOptions {
  /** Bare http origin of the upstream authorization server. */
  readonly upstream: URL;
}

/** RFC 9110 §7.6.1: connection-specific fields are not forwarded by a proxy. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== ''),
  );
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) out[name] = value;
  }
  return out;
}

function openUpstream(upstream: URL, request: FastifyRequest, reply: FastifyReply): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        hostname: upstream.hostname,
        port: upstream.port || 80,
        method: request.raw.method,
        // The raw target, not fastify's normalised URL: the upstream sees exactly what the client sent.
        path: request.raw.url,
        // Host is kept: Dex builds nothing from it, and an unchanged request is the point of this proxy.
        headers: endToEnd(request.raw.headers),
      },
      resolve,
    );
    outgoing.on('error', (cause: Error) => {
      reject(new BadGatewayError(`authorization server at ${upstream.origin} did not answer: ${cause.message}`, { cause }));
    });
    // A client that goes away mid-exchange must not leave the upstream request hanging.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) outgoing.destroy();
    });
    request.raw.pipe(outgoing);
  });
}

/**
 * Reverse-proxies every request this service does not answer itself to the upstream, unchanged: method, target,
 * end-to-end headers (Host included), streamed body; and back: status, headers (every Set-Cookie, Location as
 * the upstream wrote it, no redirect followed), streamed body. An unreachable upstream is a 502.
 *
 * The exchange happens in the route's onRequest hook, before fastify looks at the body: a missing or malformed
 * Content-Type, or a body over fastify's limit, is the upstream's business, not a 415 or 413 from here.
 * Written on node:http rather than @fastify/reply-from because that plugin sets Host to the upstream's by
 * default and brings undici along; this proxy must add nothing, and the whole job is the lines above.
 */
export async function proxyRoutes(app: FastifyInstance, opts: ProxyOptions): Promise<void> {
  app.all(
    '/*',
    {
      onRequest: async function forward(request: FastifyRequest, reply: FastifyReply) {
        const upstreamResponse = await openUpstream(opts.upstream, request, reply);
        reply.code(upstreamResponse.statusCode ?? 502);
        reply.headers(endToEnd(upstreamResponse.headers));
        return reply.send(upstreamResponse);
      },
    },
    function answeredInOnRequest(_request: FastifyRequest, reply: FastifyReply) {
      // onRequest always sends or throws; reaching this is a bug, reported as one.
      return reply.code(500).send({ error: 'server_error', error_description: 'proxy did not answer' });
    },
  );
}
