/**
 * The kit's one fake authorization server, as a fetch-style handler (`Request` → `Response`): mounted on the
 * client's fake network in unit tests, or served on a loopback port (`serveFakeIssuer`) for subprocess tests and
 * the bench. It serves RFC 8414 metadata (also at the OpenID path), a JWKS (RFC 7517), open Dynamic Client
 * Registration (RFC 7591), an authorization endpoint that approves at once (redirect with `code`, `state` and the
 * RFC 9207 `iss`; no login page), and a token endpoint that checks the code's client, redirect_uri, RFC 8707
 * resource and PKCE S256 verifier (RFC 7636 §4.6, computed by oauth4webapi) before minting opaque tokens, with
 * refresh. Misbehaviours are hooks on the metadata, on the JWKS endpoint and on the authorization response.
 */
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import type { Keys } from './keys.ts';
import { json, serve, type Served } from './serve.ts';

export interface FakeIssuerOptions {
  /** Issuer identifier (no trailing slash); endpoints are `<issuer>/authorize`, `/token`, `/register`, `/jwks`. */
  readonly issuer: string;
  /** `scopes_supported`; default `notes:read notes:write offline_access`. */
  readonly scopes?: readonly string[];
  /** Rewrites the RFC 8414 document before it is served (a misbehaving or unusual AS). */
  readonly metadata?: (doc: Record<string, unknown>) => void;
  /** Rewrites the authorization response's parameters (`code`, `state`, `iss`) before the redirect. */
  readonly authorizationResponse?: (params: URLSearchParams) => void;
  /** Prefix of the client ids, codes and tokens it hands out (so that a test can recognise them). */
  readonly prefix?: string;
  /** The client_id every registration gets; default a fresh one per registration. */
  readonly clientId?: string;
  /** Whether the token endpoint issues refresh tokens; default true. */
  readonly refreshTokens?: boolean;
  /** `expires_in` of access tokens; default 3600. */
  readonly expiresInS?: number;
  /** The key set served at `/jwks`; default the public key of `keys`, else empty. */
  readonly jwks?: () => JWK[];
  readonly keys?: Keys;
  /**
   * Answers `GET /jwks` in place of the key set (still counted as a JWKS request): an endpoint that is down,
   * garbled or slow to answer. `keySet` gives the answer it would have sent, as of when it is called.
   */
  readonly jwksEndpoint?: (request: Request, keySet: () => Response) => Response | Promise<Response>;
}

/** What an authorization code or a token stands for. */
export interface Grant {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly resource: string;
  readonly scope: readonly string[];
}

export interface FakeIssuer {
  readonly issuer: string;
  /** Answers a request to any of its endpoints; 404 for anything else. */
  handle(request: Request): Promise<Response>;
  /** The RFC 8414 document as served. */
  metadata(): Record<string, unknown>;
  /** What the authorization endpoint does, as a user agent that approves at once: the callback URL to follow. */
  authorize(authorizationUrl: URL, tamper?: (params: URLSearchParams) => void): URL;
  /** Every authorization code handed out, in order. */
  readonly codes: readonly string[];
  /** Access tokens it minted and still honours (a test may delete one to revoke it). */
  readonly tokens: Map<string, Grant>;
  /** How often `/jwks` was fetched. */
  jwksRequests(): number;
}

const DEFAULT_SCOPES = ['notes:read', 'notes:write', 'offline_access'];

function opaque(prefix: string, kind: string): string {
  return `${prefix}${kind}-${randomBytes(12).toString('base64url')}`;
}

/** What a fake issuer remembers between requests. */
interface IssuerState {
  readonly codes: Map<string, Grant>;
  readonly handedOut: string[];
  readonly tokens: Map<string, Grant>;
  readonly refreshTokens: Map<string, Grant>;
  clients: number;
  jwksRequests: number;
}

/** The RFC 8414 §2 document, after the `metadata` hook. */
function issuerMetadata(opts: FakeIssuerOptions): Record<string, unknown> {
  const issuer = opts.issuer;
  const doc: Record<string, unknown> = {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: opts.refreshTokens === false ? ['authorization_code'] : ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [...(opts.scopes ?? DEFAULT_SCOPES)],
    authorization_response_iss_parameter_supported: true,
  };
  opts.metadata?.(doc);
  return doc;
}

/** Approves an authorization request at once: a fresh code for it, and the callback URL with code, state, iss. */
function approve(state: IssuerState, opts: FakeIssuerOptions, url: URL, tamper?: (params: URLSearchParams) => void): URL {
  const q = url.searchParams;
  const redirectUri = q.get('redirect_uri');
  const clientId = q.get('client_id');
  if (redirectUri === null || clientId === null) throw new Error('client_id and redirect_uri are required');
  const code = opaque(opts.prefix ?? '', 'code');
  const scope = (q.get('scope') ?? '').split(' ').filter(Boolean);
  state.codes.set(code, { clientId, redirectUri, codeChallenge: q.get('code_challenge') ?? '', resource: q.get('resource') ?? '', scope });
  state.handedOut.push(code);
  const params = new URLSearchParams({ code, state: q.get('state') ?? '', iss: opts.issuer });
  opts.authorizationResponse?.(params);
  tamper?.(params);
  const target = new URL(redirectUri);
  for (const [k, v] of params) target.searchParams.set(k, v);
  return target;
}

/** The grant a token request redeems: a code bound to its client, redirect_uri, resource and PKCE challenge. */
async function redeem(state: IssuerState, opts: FakeIssuerOptions, p: URLSearchParams): Promise<Grant | undefined> {
  if (p.get('grant_type') === 'refresh_token') return opts.refreshTokens === false ? undefined : state.refreshTokens.get(p.get('refresh_token') ?? '');
  if (p.get('grant_type') !== 'authorization_code') return undefined;
  const code = p.get('code') ?? '';
  const grant = state.codes.get(code);
  state.codes.delete(code);
  const ok =
    grant !== undefined &&
    p.get('client_id') === grant.clientId &&
    p.get('redirect_uri') === grant.redirectUri &&
    (p.get('resource') ?? '') === grant.resource &&
    (await oauth.calculatePKCECodeChallenge(p.get('code_verifier') ?? '')) === grant.codeChallenge;
  return ok ? grant : undefined;
}

/** The token endpoint (RFC 6749 §3.2): opaque tokens for a redeemed grant, else `invalid_grant`. */
async function tokenResponse(state: IssuerState, opts: FakeIssuerOptions, p: URLSearchParams): Promise<Response> {
  const grant = await redeem(state, opts, p);
  if (grant === undefined) return json({ error: 'invalid_grant' }, 400);
  const accessToken = opaque(opts.prefix ?? '', 'access-token');
  state.tokens.set(accessToken, grant);
  const body: Record<string, unknown> = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: opts.expiresInS ?? 3600,
    scope: grant.scope.filter((s) => s !== 'offline_access').join(' '),
  };
  if (opts.refreshTokens !== false) {
    const refreshToken = opaque(opts.prefix ?? '', 'refresh-token');
    state.refreshTokens.set(refreshToken, grant);
    body.refresh_token = refreshToken;
  }
  return json(body);
}

/** Open Dynamic Client Registration (RFC 7591 §3.2.1): the metadata back, with a client_id. */
function registration(state: IssuerState, opts: FakeIssuerOptions, meta: Record<string, unknown>): Response {
  const clientId = opts.clientId ?? `${opts.prefix ?? ''}client-${++state.clients}`;
  return json({ ...meta, client_id: clientId, client_id_issued_at: Math.floor(Date.now() / 1000), token_endpoint_auth_method: 'none' }, 201);
}

/** A fake issuer at `opts.issuer`; see the module comment. */
export function createFakeIssuer(opts: FakeIssuerOptions): FakeIssuer {
  const state: IssuerState = { codes: new Map(), handedOut: [], tokens: new Map(), refreshTokens: new Map(), clients: 0, jwksRequests: 0 };
  const base = new URL(opts.issuer);
  const path = base.pathname.replace(/\/$/, '');
  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.origin !== base.origin) return json({ error: 'not_found' }, 404);
    switch (`${request.method} ${url.pathname}`) {
      case `GET /.well-known/oauth-authorization-server${path}`:
      case `GET ${path}/.well-known/openid-configuration`:
        return json(issuerMetadata(opts));
      case `GET ${path}/jwks`: {
        state.jwksRequests++;
        const keySet = () => json({ keys: opts.jwks?.() ?? (opts.keys ? [opts.keys.publicJwk] : []) });
        return opts.jwksEndpoint ? opts.jwksEndpoint(request, keySet) : keySet();
      }
      case `POST ${path}/register`:
        return registration(state, opts, (await request.json()) as Record<string, unknown>);
      case `GET ${path}/authorize`:
        try {
          return new Response(null, { status: 302, headers: { location: approve(state, opts, url).href, 'cache-control': 'no-store' } });
        } catch (err) {
          return json({ error: 'invalid_request', error_description: (err as Error).message }, 400);
        }
      case `POST ${path}/token`:
        return tokenResponse(state, opts, new URLSearchParams(await request.text()));
      default:
        return json({ error: 'not_found' }, 404);
    }
  }
  return {
    issuer: opts.issuer,
    handle,
    metadata: () => issuerMetadata(opts),
    authorize: (url, tamper) => approve(state, opts, url, tamper),
    codes: state.handedOut,
    tokens: state.tokens,
    jwksRequests: () => state.jwksRequests,
  };
}

export interface ServedFakeIssuer extends FakeIssuer {
  /** The loopback origin it listens on (= the issuer). */
  readonly url: string;
  close(): Promise<void>;
}

/** A fake issuer on a free loopback port; its issuer identifier is that origin. */
export async function serveFakeIssuer(opts: Omit<FakeIssuerOptions, 'issuer'> = {}): Promise<ServedFakeIssuer> {
  let fake: FakeIssuer | undefined;
  const served: Served = await serve((request) => fake!.handle(request));
  fake = createFakeIssuer({ ...opts, issuer: served.origin });
  return { ...fake, url: served.origin, close: () => served.close() };
}
