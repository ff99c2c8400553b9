/**
 * Real tokens from a real IdP (embedded, Dex or Keycloak) for integration tests: discovery (RFC 8414 or OpenID
 * Connect), optional RFC 7591 registration, authorization code + PKCE S256 with an optional RFC 8707 `resource`,
 * the headless sign-in (the client's driver), and the token exchange, all with oauth4webapi so that responses
 * (iss, state, token response shape) are validated as a strict client would.
 */
import * as oauth from 'oauth4webapi';
import { authorizationRequest, headlessAuthorize, loopbackRedirectUri } from './authorization.ts';
import type { LoginDriverName } from './login.ts';

export interface ObtainTokenOptions {
  /** Issuer identifier, e.g. http://127.0.0.1:4000. */
  readonly issuer: string;
  /** RFC 8707 resource indicator sent in the authorization and token requests; none when absent. */
  readonly resource?: string;
  /** Space-separated scopes; defaults to `notes:read`. */
  readonly scope?: string;
  readonly username: string;
  readonly password: string;
  /** A registered public client (e.g. `mcp-lab-cli`); when omitted a native client is registered by DCR. */
  readonly clientId?: string;
  /** Default: a loopback redirect URI on a free port (nothing listens there; the flow stops at the redirect). */
  readonly redirectUri?: string;
  /** `oauth2` (RFC 8414, the default) or `oidc` (OpenID Connect Discovery, e.g. Keycloak, Dex). */
  readonly discovery?: 'oauth2' | 'oidc';
  /** The client's `--login-driver`; default `auto`. */
  readonly driver?: LoginDriverName;
  readonly fetch?: typeof fetch;
}

export interface ObtainedToken {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number | undefined;
  readonly refresh_token: string | undefined;
  readonly scope: string | undefined;
  readonly id_token: string | undefined;
  readonly client_id: string;
  /** The validated authorization server metadata (for refresh or revocation). */
  readonly as: oauth.AuthorizationServer;
  /** Runs the refresh_token grant for this client (with the same `resource`). */
  refresh(refreshToken?: string): Promise<oauth.TokenEndpointResponse>;
}

/** Options every oauth4webapi call needs against a loopback http IdP. */
function httpOptions(fetchImpl: typeof fetch | undefined, resource?: string) {
  return {
    [oauth.allowInsecureRequests]: true,
    ...(fetchImpl === undefined ? {} : { [oauth.customFetch]: fetchImpl }),
    ...(resource === undefined ? {} : { additionalParameters: { resource } }),
  } as const;
}

/** Discovers the IdP (RFC 8414 `/.well-known/oauth-authorization-server` by default), checking `issuer` (§3.3). */
export async function discover(issuer: string, fetchImpl?: typeof fetch, algorithm: 'oauth2' | 'oidc' = 'oauth2'): Promise<oauth.AuthorizationServer> {
  const issuerUrl = new URL(issuer);
  const res = await oauth.discoveryRequest(issuerUrl, { algorithm, ...httpOptions(fetchImpl) });
  return oauth.processDiscoveryResponse(issuerUrl, res);
}

/** Registers a public native client (RFC 7591 + OIDC `application_type`) with the given loopback redirect URI. */
export async function registerNativeClient(as: oauth.AuthorizationServer, redirectUri: string, fetchImpl?: typeof fetch): Promise<oauth.Client> {
  const res = await oauth.dynamicClientRegistrationRequest(
    as,
    {
      client_name: 'mcp-lab test client',
      application_type: 'native',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    httpOptions(fetchImpl),
  );
  return oauth.processDynamicClientRegistrationResponse(res);
}

/** Obtains an access token (and refresh token, if the IdP issues one) as `username`. */
export async function obtainToken(opts: ObtainTokenOptions): Promise<ObtainedToken> {
  const as = await discover(opts.issuer, opts.fetch, opts.discovery);
  if (as.authorization_endpoint === undefined) throw new Error(`${opts.issuer} advertises no authorization_endpoint`);
  const redirectUri = opts.redirectUri ?? (await loopbackRedirectUri());
  const client: oauth.Client =
    opts.clientId === undefined ? await registerNativeClient(as, redirectUri, opts.fetch) : { client_id: opts.clientId, token_endpoint_auth_method: 'none' };
  const start = await authorizationRequest(as.authorization_endpoint, {
    clientId: client.client_id,
    scope: opts.scope ?? 'notes:read',
    redirectUri,
    ...(opts.resource === undefined ? {} : { resource: opts.resource }),
  });

  const { callbackUrl } = await headlessAuthorize({
    authorizationUrl: start.url,
    username: opts.username,
    password: opts.password,
    redirectUri: start.redirectUri,
    ...(opts.driver === undefined ? {} : { driver: opts.driver }),
    ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
  });
  // Checks state and, where the IdP advertises authorization_response_iss_parameter_supported, iss (RFC 9207 §2.4).
  const params = oauth.validateAuthResponse(as, client, callbackUrl, start.state);
  const tokenRes = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, start.redirectUri, start.verifier, httpOptions(opts.fetch, opts.resource));
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenRes);

  const refresh = async (refreshToken = tokens.refresh_token): Promise<oauth.TokenEndpointResponse> => {
    if (refreshToken === undefined) throw new Error('no refresh token was issued');
    const res = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, httpOptions(opts.fetch, opts.resource));
    return oauth.processRefreshTokenResponse(as, client, res);
  };
  return {
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    expires_in: tokens.expires_in,
    refresh_token: tokens.refresh_token,
    scope: tokens.scope,
    id_token: tokens.id_token,
    client_id: client.client_id,
    as,
    refresh,
  };
}
