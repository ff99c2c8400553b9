/**
 * Hands a request over to a transport (the SDK's or ours), which writes to the raw Node response itself.
 */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/principal.ts';

/** Takes over the reply, keeping headers hooks already set (CORS) on the raw response. */
export function hijack(reply: FastifyReply): void {
  for (const [name, value] of Object.entries(hijackHeaders(reply))) {
    if (value !== undefined) reply.raw.setHeader(name, value);
  }
}

/**
 * Takes over the reply and returns the headers hooks already set (CORS), for a caller that writes them in its
 * own single `writeHead` (nothing is copied onto the raw response, where each header would stay for its life).
 */
export function hijackHeaders(reply: FastifyReply): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[name] = value as string | number | string[];
  }
  reply.hijack();
  return headers;
}

/**
 * The raw request with the SDK's AuthInfo attached. The token is deliberately left out (empty): tools get the
 * verified principal, and nothing downstream may transit the token (MCP security considerations).
 */
export function withAuth(request: FastifyRequest, principal: Principal): IncomingMessage & { auth: AuthInfo } {
  const raw = request.raw as IncomingMessage & { auth: AuthInfo };
  raw.auth = authInfoOf(principal);
  return raw;
}

/** The SDK's AuthInfo for `principal`, without the token (see withAuth). */
export function authInfoOf(principal: Principal): AuthInfo {
  return {
    token: '',
    clientId: principal.clientId ?? '',
    scopes: [...principal.permissions],
    expiresAt: principal.exp,
    extra: { principal },
  };
}
