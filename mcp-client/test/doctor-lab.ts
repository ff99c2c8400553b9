/**
 * A configurable MCP server + authorization server on the fake network for the doctor's tests. Healthy by
 * default (RFC 6750 challenges, RFC 9728 metadata; the AS is the test kit's fake issuer, whose opaque access
 * tokens are swapped here for RFC 9068 JWTs signed with the kit's keys, since the doctor tampers with JWTs; the RS
 * checks signature, alg, aud and exp); each `defect` breaks exactly one thing, as real servers do.
 */
import { createFakeIssuer } from '@mcp-lab/test-kit/fake-issuer';
import { makeKeys, nowS, signJwt } from '@mcp-lab/test-kit/keys';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
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

/** The broken servers of the doctor's issue: each defect must make exactly the check `fails` fail. */
export const BROKEN_SERVERS: readonly { readonly defect: Defect; readonly fails: string }[] = [
  { defect: 'wrong-resource', fails: 'prm-resource-identity' },
  { defect: 'no-resource-metadata', fails: 'challenge-resource-metadata' },
  { defect: 'unescaped-challenge', fails: 'challenge-grammar' },
  { defect: 'accepts-query-tokens', fails: 'token-query-refused' },
  { defect: 'accepts-foreign-audience', fails: 'token-foreign-audience' },
  { defect: 'accepts-alg-none', fails: 'token-alg-none' },
  { defect: 'issuer-trailing-slash', fails: 'as-issuer-echo' },
  { defect: 'no-s256', fails: 'as-pkce-s256' },
  { defect: 'iss-advertised-not-sent', fails: 'authorization-response-iss' },
  { defect: 'accepts-expired', fails: 'token-expired' },
  { defect: 'no-origin-check', fails: 'transport-origin' },
  { defect: 'malformed-header-500', fails: 'challenge-malformed-header' },
];

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

/** What the parts of a doctor lab share: its origins, defects, key and eras. */
interface LabShape {
  readonly RS: string;
  readonly MCP: string;
  readonly ISSUER: string;
  readonly CHALLENGE: string;
  readonly has: (d: Defect) => boolean;
  readonly eras: readonly string[];
  readonly publicKey: Awaited<ReturnType<typeof importJWK>>;
}

/** The authorization server: the kit's fake issuer, its metadata and authorization response bent by the defects. */
function mountFakeAs(net: FakeNetwork, lab: LabShape, keys: Awaited<ReturnType<typeof makeKeys>>, mint: (aud: string) => Promise<string>) {
  const { ISSUER, has } = lab;
  const as = createFakeIssuer({
    issuer: ISSUER,
    scopes: ['notes:read'],
    keys,
    metadata: (doc) => {
      if (has('issuer-trailing-slash')) doc.issuer = `${ISSUER}/`;
      if (has('no-s256')) doc.code_challenge_methods_supported = ['plain'];
      if (has('no-iss')) delete doc.authorization_response_iss_parameter_supported;
    },
    authorizationResponse: (params) => {
      if (has('iss-advertised-not-sent') || has('no-iss')) params.delete('iss');
    },
  });
  const toAs = (req: SeenRequest) => as.handle(new Request(req.url, { method: req.method, headers: req.headers, ...(req.method === 'GET' ? {} : { body: req.body }) }));
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/jwks', '/authorize']) net.on('GET', `${ISSUER}${path}`, toAs);
  net.on('POST', `${ISSUER}/register`, toAs);
  net.on('POST', `${ISSUER}/token`, async (req) => {
    const response = await toAs(req);
    if (response.status !== 200) return response;
    const body = (await response.json()) as { access_token: string } & Record<string, unknown>;
    const grant = as.tokens.get(body.access_token);
    if (!grant) return json({ error: 'server_error' }, 500);
    // Like Dex: without a resource scope the token's audience is the client itself.
    const aud = grant.scope.includes('notes:read') ? grant.resource : grant.clientId;
    return json({ ...body, access_token: await mint(aud) });
  });
  return as;
}

/** Whether the fake RS accepts `token` (its defects decide how loosely). */
async function verifyAtFakeRs(lab: LabShape, token: string): Promise<boolean> {
  const { has } = lab;
  if (has('accepts-alg-none') && decodeProtectedHeader(token).alg === 'none') return true;
  try {
    await jwtVerify(token, lab.publicKey, {
      issuer: lab.ISSUER,
      algorithms: ['RS256'],
      ...(has('accepts-foreign-audience') ? {} : { audience: [lab.MCP, lab.RS] }),
      // Ten years of "clock skew": exp is never enforced.
      ...(has('accepts-expired') ? { clockTolerance: 10 * 365 * 86_400 } : {}),
    });
    return true;
  } catch {
    return false;
  }
}

/** The fake RS's WWW-Authenticate challenge, as its defects write it. */
function challengeFor(lab: LabShape, error?: string): string {
  if (lab.has('unescaped-challenge')) return `Bearer resource_metadata="${lab.RS}/.well-known/oauth-protected-resource/mcp", error_description="say "hello""`;
  if (lab.has('no-resource-metadata')) return `Bearer scope="notes:read"${error ? `, error="${error}"` : ''}`;
  return error ? `${lab.CHALLENGE}, error="${error}"` : lab.CHALLENGE;
}

/** The bearer token of a request (header or, where a defect allows it, the query), or the refusal to answer. */
function fakeRsToken(lab: LabShape, req: SeenRequest): { token?: string; refusal?: Response } {
  const query = new URL(req.url).searchParams.get('access_token');
  let token: string | undefined;
  if (query !== null) {
    if (!lab.has('accepts-query-tokens')) return { refusal: json({ error: 'invalid_request' }, 400, { 'www-authenticate': challengeFor(lab, 'invalid_request') }) };
    token = query;
  }
  const auth = req.headers.get('authorization');
  if (auth !== null) {
    const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(auth);
    if (!m) {
      if (lab.has('malformed-header-500')) return { refusal: json({ error: 'server_error' }, 500) };
      return { refusal: json({ error: 'invalid_request' }, 400, { 'www-authenticate': challengeFor(lab, 'invalid_request') }) };
    }
    token = m[1];
  }
  return token === undefined ? {} : { token };
}

/** The fake RS's MCP endpoint: Origin, credentials and the era answers, each bent by the defects. */
function fakeMcpEndpoint(lab: LabShape) {
  const { has, RS, eras } = lab;
  return async function mcp(req: SeenRequest): Promise<Response> {
    const origin = req.headers.get('origin');
    if (origin !== null && origin !== RS && !has('no-origin-check')) return json({ error: 'forbidden_origin' }, 403);
    const early = JSON.parse(req.body || '{}') as { id?: number | string; method?: string };
    if (has('public-discover') && early.method === 'server/discover') {
      return json({ jsonrpc: '2.0', id: early.id, result: { resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: {}, serverInfo: { name: 'fake', version: '1' } } });
    }
    const { token, refusal } = fakeRsToken(lab, req);
    if (refusal) return refusal;
    if (token === undefined) return json({ error: 'unauthorized' }, 401, { 'www-authenticate': challengeFor(lab, has('error-without-credentials') ? 'invalid_token' : undefined) });
    if (!(await verifyAtFakeRs(lab, token))) return json({ error: 'invalid_token' }, 401, { 'www-authenticate': challengeFor(lab, 'invalid_token') });
    const msg = JSON.parse(req.body) as { id?: number | string; method: string };
    if (msg.method === 'server/discover' && eras.includes('2026-07-28')) {
      return json({ jsonrpc: '2.0', id: msg.id, result: { resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } } });
    }
    if (msg.method === 'initialize' && eras.includes('2025')) {
      return json({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } } }, 200, { 'mcp-session-id': 'sess-1' });
    }
    return json({ jsonrpc: '2.0', id: msg.id ?? null, error: { code: -32601, message: 'method not found' } }, 400);
  };
}

export async function doctorLab(opts: DoctorLabOptions = {}): Promise<DoctorLab> {
  const RS = opts.origins?.rs ?? RS_DEFAULT;
  const MCP = `${RS}/mcp`;
  const ISSUER = opts.origins?.issuer ?? ISSUER_DEFAULT;
  const keys = await makeKeys('k1');
  const lab: LabShape = {
    RS,
    MCP,
    ISSUER,
    CHALLENGE: `Bearer resource_metadata="${RS}/.well-known/oauth-protected-resource/mcp", scope="notes:read"`,
    has: (d: Defect) => opts.defects?.includes(d) ?? false,
    eras: opts.eras ?? ['2026-07-28', '2025'],
    publicKey: await importJWK(keys.publicJwk, 'RS256'),
  };
  const net = fakeNetwork();
  const mint = (aud: string, expiresInS = 600) =>
    signJwt(keys, { iss: ISSUER, sub: 'alice', aud, scope: 'notes:read', client_id: 'doctor-client', iat: nowS() - 1200, exp: nowS() + expiresInS });

  // --- Protected Resource Metadata
  const resource = lab.has('wrong-resource') ? 'https://elsewhere.example.com/mcp' : MCP;
  net.on('GET', `${RS}/.well-known/oauth-protected-resource/mcp`, json({ resource, authorization_servers: [ISSUER], scopes_supported: ['notes:read'] }));
  net.on('GET', `${RS}/.well-known/oauth-protected-resource`, json({ resource: RS, authorization_servers: [ISSUER], scopes_supported: ['notes:read'] }));

  const as = mountFakeAs(net, lab, keys, (aud) => mint(aud));
  net.on('POST', MCP, fakeMcpEndpoint(lab));
  net.on('DELETE', MCP, new Response(null, { status: 204 }));

  return {
    net,
    mcpUrl: MCP,
    mint: (r, e) => mint(r ?? MCP, e),
    userAgent() {
      return async (_ctx, url) => as.authorize(url);
    },
  };
}
