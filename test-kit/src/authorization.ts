/**
 * Authorization requests as a native public client sends them (RFC 6749 §4.1.1 with PKCE S256, RFC 7636 §4, and
 * optionally an RFC 8707 `resource`), and the headless sign-in that answers them. PKCE, `state` and the checks of
 * the authorization response are oauth4webapi's, not written again here.
 */
import * as oauth from 'oauth4webapi';
import { freePort } from './free-port.ts';
import { browserLogin, credentialsRefused, type LoginOptions } from './login.ts';

/** A PKCE S256 pair (RFC 7636 §4.1, §4.2). */
export async function pkcePair(): Promise<{ readonly verifier: string; readonly challenge: string }> {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) };
}

/** A loopback redirect URI on a free port (RFC 8252 §7.3); nothing needs to listen there. */
export async function loopbackRedirectUri(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}/callback`;
}

export interface AuthorizationRequestOptions {
  readonly clientId: string;
  readonly scope: string;
  /** RFC 8707 resource indicator; left out when absent. */
  readonly resource?: string;
  /** Default: a loopback redirect URI on a free port (RFC 8252 §7.3). */
  readonly redirectUri?: string;
}

export interface AuthorizationRequest {
  readonly url: URL;
  readonly redirectUri: string;
  readonly verifier: string;
  readonly state: string;
}

/** Builds an authorization request for `authorizationEndpoint` with PKCE S256 and a fresh `state`. */
export async function authorizationRequest(authorizationEndpoint: string | URL, opts: AuthorizationRequestOptions): Promise<AuthorizationRequest> {
  const redirectUri = opts.redirectUri ?? (await loopbackRedirectUri());
  const { verifier, challenge } = await pkcePair();
  const state = oauth.generateRandomState();
  const url = new URL(authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: opts.clientId,
    redirect_uri: redirectUri,
    scope: opts.scope,
    ...(opts.resource === undefined ? {} : { resource: opts.resource }),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  return { url, redirectUri, verifier, state };
}

export interface HeadlessAuthorizeResult {
  /** The full URL the IdP redirected to (for oauth4webapi's validateAuthResponse). */
  readonly callbackUrl: URL;
  readonly code: string | undefined;
  readonly state: string | undefined;
  readonly iss: string | undefined;
}

export type HeadlessLoginErrorCode = 'invalid_credentials' | 'authorization_error' | 'unexpected_response';

/** Why a headless sign-in stopped; `error`/`errorDescription` carry an OAuth error response's fields. */
export class HeadlessLoginError extends Error {
  override readonly name = 'HeadlessLoginError';
  readonly code: HeadlessLoginErrorCode;
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  readonly callbackUrl: URL | undefined;
  constructor(code: HeadlessLoginErrorCode, message: string, details: { error?: string; errorDescription?: string; callbackUrl?: URL; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.error = details.error;
    this.errorDescription = details.errorDescription;
    this.callbackUrl = details.callbackUrl;
  }
}

/**
 * Signs in headlessly and returns the authorization response's parameters without validating them (the caller
 * checks `state` and `iss`, RFC 9207). Throws {@link HeadlessLoginError}: `invalid_credentials` when the login form
 * comes back, `authorization_error` when the IdP redirects with `error` (RFC 6749 §4.1.2.1), else
 * `unexpected_response`.
 */
export async function headlessAuthorize(opts: LoginOptions): Promise<HeadlessAuthorizeResult> {
  const outcome = await browserLogin(opts).catch((cause: unknown) => {
    throw new HeadlessLoginError('unexpected_response', `sign-in failed: ${(cause as Error).message}`, { cause });
  });
  if (outcome.kind === 'page') {
    const refused = credentialsRefused(outcome);
    const message = refused ? `${outcome.error ?? 'credentials refused'} for user ${opts.username}` : `HTTP ${outcome.status}: ${outcome.reason}`;
    throw new HeadlessLoginError(refused ? 'invalid_credentials' : 'unexpected_response', message);
  }
  const p = outcome.location.searchParams;
  const error = p.get('error');
  if (error !== null) {
    const description = p.get('error_description') ?? undefined;
    throw new HeadlessLoginError('authorization_error', `authorization failed: ${error}${description ? ` (${description})` : ''}`, {
      error,
      ...(description === undefined ? {} : { errorDescription: description }),
      callbackUrl: outcome.location,
    });
  }
  return { callbackUrl: outcome.location, code: p.get('code') ?? undefined, state: p.get('state') ?? undefined, iss: p.get('iss') ?? undefined };
}
