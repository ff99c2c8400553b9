/**
 * Real tokens from the embedded IdP for integration tests: RFC 8414 discovery, optional RFC 7591 registration,
 * authorization code + PKCE (S256) with RFC 8707 `resource`, headless sign-in, and the token exchange, all with
 * oauth4webapi so that responses (iss, state, token response shape) are validated as a strict client would.
 */
import * as oauth from 'oauth4webapi';
import { headlessAuthorize } from './idp-login.ts';

export interface ObtainTokenOptions {
  /** Issuer identifier, e.g. http://127.0.0.1:4000. */
  readonly issuer: string;
  /** RFC 8707 resource indicator sent in the authorization and token requests. */
  readonly resource: string;
  /** Space-separated scopes; defaults to `notes:read`. */
  readonly scope?: string;
  readonly username: string;
  readonly password: string;
  /** A registered public client (e.g. `mcp-lab-cli`); when omitted a native client is registered by DCR. */
  readonly clientId?: string;
  /** Defaults to http://127.0.0.1:53682/callback (nothing listens there; the flow stops at the redirect). */
  readonly redirectUri?: string;
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
function httpOptions(fetchImpl: typeof fetch | undefined) {
  return {
    [oauth.allowInsecureRequests]: true,
    ...(fetchImpl === undefined ? {} : { [oauth.customFetch]: fetchImpl }),
  } as const;
}

/** Discovers the IdP through RFC 8414 (`/.well-known/oauth-authorization-server`), checking `issuer` (§3.3). */
export async function discover(issuer: string, fetchImpl?: typeof fetch): Promise<oauth.AuthorizationServer> {
  const issuerUrl = new URL(issuer);
  const res = await oauth.discoveryRequest(issuerUrl, { algorithm: 'oauth2', ...httpOptions(fetchImpl) });
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

/** Obtains an access token (and refresh token) for `resource` as `username`. */
export async function obtainToken(opts: ObtainTokenOptions): Promise<ObtainedToken> {
  const redirectUri = opts.redirectUri ?? 'http://127.0.0.1:53682/callback';
  const as = await discover(opts.issuer, opts.fetch);
  const client: oauth.Client = opts.clientId === undefined ? await registerNativeClient(as, redirectUri, opts.fetch) : { client_id: opts.clientId, token_endpoint_auth_method: 'none' };

  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  if (as.authorization_endpoint === undefined) throw new Error(`${opts.issuer} advertises no authorization_endpoint`);
  const authorizationUrl = new URL(as.authorization_endpoint);
  authorizationUrl.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: opts.scope ?? 'notes:read',
    resource: opts.resource,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
  }).toString();

  const { callbackUrl } = await headlessAuthorize({
    authorizationUrl,
    username: opts.username,
    password: opts.password,
    redirectUri,
    ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
  });
  // Checks state and, since the IdP advertises authorization_response_iss_parameter_supported, iss (RFC 9207 §2.4).
  const params = oauth.validateAuthResponse(as, client, callbackUrl, state);

  const tokenRes = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, codeVerifier, {
    additionalParameters: { resource: opts.resource },
    ...httpOptions(opts.fetch),
  });
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenRes);

  const refresh = async (refreshToken = tokens.refresh_token): Promise<oauth.TokenEndpointResponse> => {
    if (refreshToken === undefined) throw new Error('no refresh token was issued');
    const res = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, {
      additionalParameters: { resource: opts.resource },
      ...httpOptions(opts.fetch),
    });
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
