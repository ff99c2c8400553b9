/**
 * The quirk catalogue: the one list of the field's authorization failures the lab reproduces on demand. The
 * launcher (`npm start -- --quirk NAME`, `--list-quirks`, a profile's `quirks`), the fault-injecting layer
 * (./layer.ts), the tests and the README table all read it; a name is stable once listed here.
 */

/** Where the layer serves its own endpoints: its JWKS (re-signing quirks) and the refresh family counters. */
export const QUIRK_JWKS_PATH = '/.quirks/jwks';
export const QUIRK_FAMILIES_PATH = '/.quirks/refresh-families';

/** Where a quirk is injected: in front of the authorization server, in front of the resource server. */
export type QuirkLayer = 'as' | 'rs';

export interface QuirkInfo {
  readonly name: string;
  readonly layer: QuirkLayer;
  /** The real IdP or proxy whose behaviour it imitates. */
  readonly imitates: string;
  /** What the layer does to the traffic. */
  readonly effect: string;
  /** What a correct client does. */
  readonly correctClient: string;
  /** What mcp-lab-client does: the check that refuses, or the recovery step it shows. */
  readonly ourCli: string;
  /**
   * The `mcp-lab-client doctor` checks (ids of docs/errors.md, the error catalog) that report this quirk; empty
   * when none can see it from outside (it shows only in a flow's trace).
   */
  readonly doctorChecks: readonly string[];
}

export const QUIRKS = [
  {
    name: 'issuer-trailing-slash',
    layer: 'as',
    imitates: 'Auth0 (issuer `https://tenant.auth0.com/`), Okta org servers, hand-written PRM documents',
    effect: 'the AS metadata `issuer` gets a trailing slash the resource metadata does not have',
    correctClient: 'refuse: RFC 8414 §3.3 demands an identical issuer (simple string comparison), no normalisation',
    ourCli: 'as-metadata fails the check "issuer identical to the one the resource named"',
    doctorChecks: ['as-issuer-echo'],
  },
  {
    name: 'no-iss',
    layer: 'as',
    imitates: 'Dex, Entra ID, Google (no RFC 9207 `iss` in the authorization response)',
    effect: '`iss` removed from authorization responses and `authorization_response_iss_parameter_supported` from the metadata',
    correctClient: 'proceed: iss absent and not advertised is the RFC 9207 row that continues (state and PKCE still bind the response)',
    ourCli: 'callback passes "iss present when advertised (RFC 9207)" with "iss absent and not advertised: proceed"; the tool call succeeds',
    doctorChecks: ['as-iss-parameter', 'authorization-response-iss'],
  },
  {
    name: 'wrong-iss',
    layer: 'as',
    imitates: 'a mix-up attack, or a multi-tenant IdP answering with another tenant\'s issuer',
    effect: 'the authorization response carries an `iss` that is not the issuer',
    correctClient: 'refuse before using the code (RFC 9207 §2.4)',
    ourCli: 'callback fails "iss matches the recorded issuer (RFC 9207)"',
    doctorChecks: ['authorization-response-iss'],
  },
  {
    name: 'no-rfc8414',
    layer: 'as',
    imitates: 'Keycloak before 26 on some paths, Entra ID, Google: OpenID Connect Discovery only',
    effect: '`/.well-known/oauth-authorization-server…` answers 404; `/.well-known/openid-configuration` is kept',
    correctClient: 'fall back to OpenID Connect Discovery in the MCP order',
    ourCli: 'as-metadata records "fetch …oauth-authorization-server… HTTP 404; trying the next location" and finds openid-configuration; the tool call succeeds',
    doctorChecks: ['as-metadata-rfc8414', 'as-oidc-fallback'],
  },
  {
    name: 'no-dcr',
    layer: 'as',
    imitates: 'Entra ID, Google, Auth0 with dynamic registration off, Dex',
    effect: '`registration_endpoint` removed from the metadata and the registration endpoint answers 404',
    correctClient: 'use a pre-registered client id (or a Client ID Metadata Document); never guess an endpoint',
    ourCli: 'registration fails naming the missing registration_endpoint and the --client-id / --client-metadata-url options',
    doctorChecks: ['registration-methods'],
  },
  {
    name: 'no-s256',
    layer: 'as',
    imitates: 'Amazon Cognito and other IdPs whose metadata omits `code_challenge_methods_supported`',
    effect: '`code_challenge_methods_supported` removed from the metadata',
    correctClient: 'refuse: MCP requires the client to see S256 advertised before authorizing',
    ourCli: 'as-metadata fails the check "PKCE S256 supported"',
    doctorChecks: ['as-pkce-s256'],
  },
  {
    name: 'reject-resource',
    layer: 'as',
    imitates: 'Entra ID v2 endpoints (AADSTS9010010: `resource` is not accepted alongside scopes)',
    effect: 'an authorization request with `resource` is answered `error=invalid_target`; so is a token request with it',
    correctClient: 'stop and tell the person: MCP requires `resource`; such an IdP needs an audience-scoped scope instead',
    ourCli: 'callback fails with "the authorization server returned an error: invalid_target (…AADSTS9010010…)"',
    doctorChecks: [],
  },
  {
    name: 'require-audience-param',
    layer: 'as',
    imitates: 'Auth0 (the API is chosen by a non-standard `audience` parameter, else an opaque token is issued)',
    effect: 'without `audience=` in the authorization request the access token is opaque (no JWT, no aud) and no refresh token is issued',
    correctClient: 'send the IdP\'s audience parameter when configured to; the RS refuses the opaque token',
    ourCli: 'without the option: 401 invalid_token, a new authorization, then "the MCP server still answers 401 after a new authorization"; with --authorize-param audience=<resource> the tool call succeeds',
    doctorChecks: ['token-accepted'],
  },
  {
    name: 'short-token-ttl',
    layer: 'as',
    imitates: 'IdPs with 5-minute access tokens (Entra conditional access, Okta policies)',
    effect: 'the layer re-signs access tokens with exp 20 s after iat and answers `expires_in: 20`; the client\'s 30 s margin counts them expired at once',
    correctClient: 'refresh before expiry instead of sending a token that is about to expire',
    ourCli: 'the next run shows a "refresh" step before its first MCP request (no 401 first); the tool call succeeds',
    doctorChecks: [],
  },
  {
    name: 'single-use-refresh',
    layer: 'as',
    imitates: 'Auth0, Okta and Entra refresh token rotation with reuse detection (RFC 9700 §4.14.2)',
    effect: 'each refresh token works once; reusing one revokes the whole family; refresh answers take 1 s (a slow IdP widens the race)',
    correctClient: 'serialise refreshes across processes and re-read the store after taking the lock',
    ourCli: 'two processes refreshing at once: one refreshes, the other finds the new token after the lock ("refreshed by another process"); both call the tool',
    doctorChecks: [],
  },
  {
    name: 'rotate-keys',
    layer: 'as',
    imitates: 'an IdP rotating its signing key and dropping the old one at once (Keycloak key rotation, Entra key roll)',
    effect: 'the layer signs access tokens itself; after the first token every token is signed with a new key and the JWKS lists only that key',
    correctClient: 'on 401 refresh; the RS refetches the JWKS for the unknown kid (rate-limited)',
    ourCli: 'a "refresh" step, the new token accepted after the RS refetched the JWKS; the tool call succeeds',
    doctorChecks: ['token-signature'],
  },
  {
    name: 'clock-skew',
    layer: 'as',
    imitates: 'an IdP whose clock runs 5 minutes ahead (VMs without NTP, container hosts after suspend)',
    effect: 'the layer re-signs access tokens with iat and nbf 300 s in the future',
    correctClient: 'nothing a client can fix: the RS refuses beyond its skew tolerance; report the server\'s error',
    ourCli: 'the first MCP request (era step) gets 401 invalid_token, refresh and a new authorization, then "the MCP server still answers 401 after a new authorization"',
    doctorChecks: ['token-accepted'],
  },
  {
    name: 'strip-www-authenticate',
    layer: 'rs',
    imitates: 'API gateways and reverse proxies that drop WWW-Authenticate (some AWS API Gateway, nginx error_page setups)',
    effect: '`WWW-Authenticate` removed from every resource server response',
    correctClient: 'fall back to the well-known PRM URIs (RFC 9728 §3.1) and carry on',
    ourCli: 'probe records "Bearer challenge present" as missing, resource-metadata is found "via well-known"; the tool call succeeds',
    doctorChecks: ['challenge-401', 'challenge-resource-metadata'],
  },
  {
    name: 'prm-resource-mismatch',
    layer: 'rs',
    imitates: 'a PRM document copied from another deployment or behind a path-rewriting proxy',
    effect: 'the PRM `resource` names another server (`https://other.example/mcp`)',
    correctClient: 'refuse: RFC 9728 §3.3, the metadata describes another resource',
    ourCli: 'resource-metadata fails the check "resource is identical to the expected resource identifier"',
    doctorChecks: ['prm-resource-identity'],
  },
] as const satisfies readonly QuirkInfo[];

export type QuirkName = (typeof QUIRKS)[number]['name'];

export const QUIRK_NAMES: readonly QuirkName[] = QUIRKS.map((q) => q.name);

export function isQuirkName(name: string): name is QuirkName {
  return (QUIRK_NAMES as readonly string[]).includes(name);
}

export function quirkInfo(name: QuirkName): QuirkInfo {
  return QUIRKS.find((q) => q.name === name) as QuirkInfo;
}

/**
 * Parses a list of quirk names (`a,b` or `a b`); every unknown name is an error that lists the known ones.
 * @throws Error naming the unknown quirks.
 */
export function parseQuirkList(text: string): QuirkName[] {
  const names = text.split(/[,\s]+/).filter(Boolean);
  const unknown = names.filter((n) => !isQuirkName(n));
  if (unknown.length) throw new Error(`unknown quirk ${unknown.join(', ')}; known: ${QUIRK_NAMES.join(', ')}`);
  return [...new Set(names)] as QuirkName[];
}

/** The quirks of one layer, in catalogue order. */
export function quirksOf(layer: QuirkLayer, names: readonly QuirkName[]): QuirkName[] {
  return QUIRK_NAMES.filter((n) => names.includes(n) && quirkInfo(n).layer === layer);
}
