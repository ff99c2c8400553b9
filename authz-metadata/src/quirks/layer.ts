/**
 * The fault-injecting layer: a reverse proxy in front of the AS or the RS that applies the enabled quirks
 * (./catalogue.ts) to the traffic. Requests are read whole (they are small: forms, JSON-RPC); responses are
 * buffered so hooks can rewrite them, except event streams, which pass through as they come (only their headers
 * can change). Without quirks the service uses the plain streaming proxy (../proxy.ts) instead.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthorizationServerMetadata } from '@mcp-lab/protocol';
import { BadGatewayError } from '../errors.ts';
import { endToEnd } from '../proxy.ts';
import { asQuirkHooks, learnEndpoints, learningHooks, type AsEndpoints, type AsQuirkContext } from './as-quirks.ts';
import { QUIRK_FAMILIES_PATH, QUIRK_JWKS_PATH, type QuirkName } from './catalogue.ts';
import type { QuirkAnswer, QuirkHooks, QuirkRequest, QuirkResponse } from './hooks.ts';
import { RefreshFamilies } from './refresh-families.ts';
import { ResigningKeys } from './resigning.ts';
import { rsQuirkHooks } from './rs-quirks.ts';

export interface QuirkLayerOptions {
  readonly upstream: URL;
  readonly quirks: readonly QuirkName[];
  /** The issuer of the AS behind the layer (AS quirks); for an RS layer, unused. */
  readonly issuer: string;
  /** The RFC 8414 document the service serves itself (Dex), and where. */
  readonly document?: { readonly path: string; readonly body: Readonly<AuthorizationServerMetadata> };
}


async function readBody(request: FastifyRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request.raw) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function forward(upstream: URL, req: QuirkRequest, reply: FastifyReply): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { hostname: upstream.hostname, port: upstream.port || 80, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': String(req.body.length) } },
      resolve,
    );
    outgoing.on('error', (cause: Error) => reject(new BadGatewayError(`upstream at ${upstream.origin} did not answer: ${cause.message}`, { cause })));
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) outgoing.destroy();
    });
    outgoing.end(req.body);
  });
}

async function upstreamResponse(opts: QuirkLayerOptions, req: QuirkRequest, reply: FastifyReply): Promise<[QuirkResponse, IncomingMessage | undefined]> {
  const doc = opts.document;
  if (doc && req.method === 'GET' && new URL(req.url, 'http://layer.invalid').pathname === doc.path) {
    return [{ status: 200, headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' }, body: Buffer.from(JSON.stringify(doc.body)) }, undefined];
  }
  const incoming = await forward(opts.upstream, req, reply);
  const headers = endToEnd(incoming.headers);
  if (String(headers['content-type'] ?? '').includes('text/event-stream')) return [{ status: incoming.statusCode ?? 502, headers, body: undefined }, incoming];
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return [{ status: incoming.statusCode ?? 502, headers, body: Buffer.concat(chunks) }, undefined];
}

function sendAnswer(reply: FastifyReply, a: QuirkAnswer): FastifyReply {
  return reply.code(a.status).headers(a.headers).send(a.body);
}

/** The hooks of the enabled quirks, after the one that learns the AS's endpoints. */
function hooksFor(opts: QuirkLayerOptions, families: RefreshFamilies, keys: ResigningKeys): QuirkHooks[] {
  const endpoints: AsEndpoints = {};
  if (opts.document) learnEndpoints(endpoints, opts.document.body as unknown as Record<string, unknown>);
  const context: AsQuirkContext = {
    issuer: opts.issuer,
    jwksUrl: `${new URL(opts.issuer).origin}${QUIRK_JWKS_PATH}`,
    endpoints,
    families,
    keys,
    noIss: opts.quirks.includes('no-iss'),
  };
  return [learningHooks(endpoints), ...opts.quirks.map((q) => ({ ...asQuirkHooks(q, context), ...rsQuirkHooks(q) }))];
}

/** Registers the layer's own endpoints and the catch-all proxy that runs the quirks' hooks. */
export async function quirkLayerRoutes(app: FastifyInstance, opts: QuirkLayerOptions): Promise<void> {
  const families = new RefreshFamilies();
  const keys = new ResigningKeys();
  const hooks = hooksFor(opts, families, keys);

  app.get(QUIRK_JWKS_PATH, async function sendQuirkJwks(_request, reply) {
    return reply.header('cache-control', 'no-store').send(await keys.jwks());
  });
  app.get(QUIRK_FAMILIES_PATH, async function sendFamilies(_request, reply) {
    return reply.header('cache-control', 'no-store').send(families.report());
  });

  app.all(
    '/*',
    {
      onRequest: async function applyQuirks(request: FastifyRequest, reply: FastifyReply) {
        const headers = endToEnd(request.raw.headers);
        // The layer rewrites bodies, so it asks for them uncompressed.
        delete headers['accept-encoding'];
        const req: QuirkRequest = { method: request.raw.method ?? 'GET', url: request.raw.url ?? '/', headers, body: await readBody(request) };
        for (const h of hooks) {
          const answer = await h.request?.(req);
          if (answer) return sendAnswer(reply, answer);
        }
        const [res, stream] = await upstreamResponse(opts, req, reply);
        for (const h of hooks) await h.response?.(req, res);
        reply.code(res.status).headers(res.headers);
        if (res.body === undefined) return reply.send(stream);
        return reply.header('content-length', String(res.body.length)).send(res.body);
      },
    },
    function answeredInOnRequest(_request: FastifyRequest, reply: FastifyReply) {
      return reply.code(500).send({ error: 'server_error', error_description: 'quirk layer did not answer' });
    },
  );
}
