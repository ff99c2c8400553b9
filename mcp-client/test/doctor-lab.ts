/**
 * A configurable MCP server + authorization server on the fake network for the doctor's tests. Healthy by
 * default (RFC 6750 challenges, RFC 9728 metadata, RFC 8414 metadata with S256 and iss, DCR, JWT access tokens
 * checked for signature, alg, aud and exp); each `defect` breaks exactly one thing, as real servers do.
 */
import { SignJWT, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type CryptoKey } from 'jose';
import type { UserAgent } from '../src/steps/authorize.ts';
import { fakeNetwork, json, type FakeNetwork, type SeenRequest } from './fake-http.ts';

const RS_DEFAULT = 'https://rs.example.com';
const ISSUER_DEFAULT = 'https://as.example.com';
export const MCP = `${RS_DEFAULT}/mcp`;
/** A resource the fake AS issues tokens for that the fake RS is not. */
export const FOREIGN = 'https://other-rs.example.com/mcp';

export type Defect =
  | 'wrong-resource'
  | 'no-resource-metadata'
  | 'unescaped-challenge'
  | 'accepts-query-tokens'
  | 'accepts-foreign-audience'
  | 'accepts-alg-none'
  | 'accepts-expired'
  | 'issuer-trailing-slash'
  | 'no-s256'
  | 'no-iss'
  | 'iss-advertised-not-sent'
  | 'no-origin-check'
  | 'error-without-credentials'
  | 'malformed-header-500'
  /** Not a defect: server/discover is answered without looking at credentials (public discovery). */
  | 'public-discover';

export interface DoctorLabOptions {
  readonly defects?: readonly Defect[];
  /** Where the RS and the AS live (default the example.com names above; loopback origins to serve it over HTTP). */
  readonly origins?: { readonly rs: string; readonly issuer: string };
  /** Which eras the MCP endpoint speaks (default both). */
  readonly eras?: readonly ('2026-07-28' | '2025')[];
}

export interface DoctorLab {
  readonly net: FakeNetwork;
  /** The MCP endpoint. */
  readonly mcpUrl: string;
  /** A token the fake AS signed for `resource` (default: the MCP endpoint), expiring in `expiresInS`. */
  mint(resource?: string, expiresInS?: number): Promise<string>;
  /** A user agent that "logs in" and returns the authorization response (with iss unless a defect drops it). */
  userAgent(): UserAgent;
}

export async function doctorLab(opts: DoctorLabOptions = {}): Promise<DoctorLab> {
  const RS = opts.origins?.rs ?? RS_DEFAULT;
  const MCP = `${RS}/mcp`;
  const ISSUER = opts.origins?.issuer ?? ISSUER_DEFAULT;
  const CHALLENGE = `Bearer resource_metadata="${RS}/.well-known/oauth-protected-resource/mcp", scope="notes:read"`;
  const has = (d: Defect) => opts.defects?.includes(d) ?? false;
  const eras = opts.eras ?? ['2026-07-28', '2025'];
  const net = fakeNetwork();
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, { resource: string; scope: string }>();
  let n = 0;

  const mint = (resource: string, expiresInS = 600, key: CryptoKey = privateKey) =>
    new SignJWT({ scope: 'notes:read', client_id: 'doctor-client' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setSubject('alice')
      .setAudience(resource)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 1200)
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInS)
      .sign(key);

  // --- Protected Resource Metadata
  const resource = has('wrong-resource') ? 'https://elsewhere.example.com/mcp' : MCP;
  net.on('GET', `${RS}/.well-known/oauth-protected-resource/mcp`, json({ resource, authorization_servers: [ISSUER], scopes_supported: ['notes:read'] }));
  net.on('GET', `${RS}/.well-known/oauth-protected-resource`, json({ resource: RS, authorization_servers: [ISSUER], scopes_supported: ['notes:read'] }));

  // --- Authorization server
  const issuer = has('issuer-trailing-slash') ? `${ISSUER}/` : ISSUER;
  net.on('GET', `${ISSUER}/.well-known/oauth-authorization-server`, json({
    issuer,
    authorization_endpoint: `${ISSUER}/authorize`,
    token_endpoint: `${ISSUER}/token`,
    registration_endpoint: `${ISSUER}/register`,
    jwks_uri: `${ISSUER}/jwks`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: has('no-s256') ? ['plain'] : ['S256'],
    scopes_supported: ['notes:read'],
    ...(has('no-iss') ? {} : { authorization_response_iss_parameter_supported: true }),
  }));
  net.on('GET', `${ISSUER}/jwks`, json({ keys: [jwk] }));
  net.on('POST', `${ISSUER}/register`, (req) => json({ ...(JSON.parse(req.body) as object), client_id: `dcr-${++n}` }, 201));
  net.on('POST', `${ISSUER}/token`, async (req) => {
    const p = new URLSearchParams(req.body);
    const c = codes.get(p.get('code') ?? '');
    if (!c || !p.get('code_verifier') || p.get('resource') !== c.resource) return json({ error: 'invalid_grant' }, 400);
    codes.delete(p.get('code') ?? '');
    // Like Dex: without a resource scope the token's audience is the client itself.
    const aud = c.scope.split(' ').includes('notes:read') ? c.resource : 'doctor-client';
    return json({ access_token: await mint(aud), token_type: 'Bearer', expires_in: 600, scope: c.scope });
  });

  // --- The MCP endpoint
  async function verify(token: string): Promise<boolean> {
    if (has('accepts-alg-none') && decodeProtectedHeader(token).alg === 'none') return true;
    try {
      await jwtVerify(token, publicKey, {
        issuer: ISSUER,
        algorithms: ['RS256'],
        ...(has('accepts-foreign-audience') ? {} : { audience: [MCP, RS] }),
        // Ten years of "clock skew": exp is never enforced.
        ...(has('accepts-expired') ? { clockTolerance: 10 * 365 * 86_400 } : {}),
      });
      return true;
    } catch {
      return false;
    }
  }

  function challengeFor(error?: string): string {
    if (has('unescaped-challenge')) return `Bearer resource_metadata="${RS}/.well-known/oauth-protected-resource/mcp", error_description="say "hello""`;
    if (has('no-resource-metadata')) return `Bearer scope="notes:read"${error ? `, error="${error}"` : ''}`;
    return error ? `${CHALLENGE}, error="${error}"` : CHALLENGE;
  }

  async function mcp(req: SeenRequest): Promise<Response> {
    const url = new URL(req.url);
    const origin = req.headers.get('origin');
    if (origin !== null && origin !== RS && !has('no-origin-check')) return json({ error: 'forbidden_origin' }, 403);
    const early = JSON.parse(req.body || '{}') as { id?: number | string; method?: string };
    if (has('public-discover') && early.method === 'server/discover') {
      return json({ jsonrpc: '2.0', id: early.id, result: { resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: {}, serverInfo: { name: 'fake', version: '1' } } });
    }
    const auth = req.headers.get('authorization');
    let token: string | undefined;
    const query = url.searchParams.get('access_token');
    if (query !== null) {
      if (!has('accepts-query-tokens')) return json({ error: 'invalid_request' }, 400, { 'www-authenticate': challengeFor('invalid_request') });
      token = query;
    }
    if (auth !== null) {
      const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(auth);
      if (!m) {
        if (has('malformed-header-500')) return json({ error: 'server_error' }, 500);
        return json({ error: 'invalid_request' }, 400, { 'www-authenticate': challengeFor('invalid_request') });
      }
      token = m[1];
    }
    if (token === undefined) return json({ error: 'unauthorized' }, 401, { 'www-authenticate': challengeFor(has('error-without-credentials') ? 'invalid_token' : undefined) });
    if (!(await verify(token))) return json({ error: 'invalid_token' }, 401, { 'www-authenticate': challengeFor('invalid_token') });
    const msg = JSON.parse(req.body) as { id?: number | string; method: string };
    if (msg.method === 'server/discover' && eras.includes('2026-07-28')) {
      return json({ jsonrpc: '2.0', id: msg.id, result: { resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } } });
    }
    if (msg.method === 'initialize' && eras.includes('2025')) {
      return json({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } } }, 200, { 'mcp-session-id': 'sess-1' });
    }
    return json({ jsonrpc: '2.0', id: msg.id ?? null, error: { code: -32601, message: 'method not found' } }, 400);
  }
  net.on('POST', MCP, mcp);
  net.on('DELETE', MCP, new Response(null, { status: 204 }));

  /** The authorization response for an authorization request URL: straight back with a code (no login page). */
  function respond(url: URL): string {
    const code = `code-${++n}`;
    codes.set(code, { resource: url.searchParams.get('resource') ?? '', scope: url.searchParams.get('scope') ?? '' });
    const params = new URLSearchParams({ code, state: url.searchParams.get('state') ?? '' });
    if (!has('iss-advertised-not-sent') && !has('no-iss')) params.set('iss', issuer);
    return `${url.searchParams.get('redirect_uri') ?? ''}?${params}`;
  }
  net.on('GET', `${ISSUER}/authorize`, (req) => new Response(null, { status: 302, headers: { location: respond(new URL(req.url)) } }));

  return {
    net,
    mcpUrl: MCP,
    mint: (r, e) => mint(r ?? MCP, e),
    userAgent() {
      return async (_ctx, url) => new URL(respond(url));
    },
  };
}
