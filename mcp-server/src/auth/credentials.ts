/**
 * Finds the request's credentials: an RFC 6750 §2.1 `Authorization: Bearer` header, else the session cookie.
 */
import { BearerError } from '@mcp-lab/protocol';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_COOKIE = 'mcp_lab_session';

export type Credentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'cookie'; readonly sessionId: string };

/** RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export interface CredentialSource {
  readonly headers: IncomingHttpHeaders;
  /** Raw header list, to notice a repeated Authorization header that Node would silently drop. */
  readonly rawHeaders: readonly string[];
  readonly query: unknown;
  readonly cookies: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * Extracts credentials; the bearer header wins over the cookie.
 * @throws BearerError invalid_request for a malformed header, a repeated header, or a token in the query
 *   (RFC 6750 §3.1; the MCP spec forbids query tokens).
 */
export function extractCredentials(src: CredentialSource): Credentials {
  let count = 0;
  for (let i = 0; i < src.rawHeaders.length; i += 2) {
    if (src.rawHeaders[i]?.toLowerCase() === 'authorization') count++;
  }
  if (count > 1) throw new BearerError('invalid_request', 'more than one Authorization header');
  const q = src.query;
  if (q && typeof q === 'object' && Object.hasOwn(q, 'access_token')) {
    throw new BearerError('invalid_request', 'access tokens must not be sent in the query string');
  }
  const header = src.headers.authorization;
  if (header !== undefined) {
    const m = BEARER.exec(header.trim());
    if (!m?.[1]) {
      const scheme = header.trim().split(/\s/, 1)[0] ?? '';
      const reason = scheme.toLowerCase() !== 'bearer' ? 'the Authorization scheme must be Bearer' : 'malformed Bearer credentials';
      throw new BearerError('invalid_request', reason);
    }
    return { kind: 'bearer', token: m[1] };
  }
  const sessionId = src.cookies?.[SESSION_COOKIE];
  if (sessionId) return { kind: 'cookie', sessionId };
  return { kind: 'none' };
}

/**
 * Drops the `Authorization` value from a request that lives on after its credentials were verified (an SSE
 * stream is held for hours): the token is not kept in memory longer than needed (RFC 6750 §5.3, "safeguard
 * bearer tokens"). Call only once the principal is established; `extractCredentials` no longer sees it.
 */
export function forgetBearerToken(req: { headers: IncomingHttpHeaders; rawHeaders: string[] }): void {
  delete req.headers.authorization;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === 'authorization') req.rawHeaders[i + 1] = '';
  }
}
