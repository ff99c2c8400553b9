/**
 * Headless sign-in at the embedded IdP, as a person with a browser would do it: follow the authorization
 * endpoint's redirects with a cookie jar, fill in the login form, and stop at the client's redirect_uri.
 */
import { CookieJar } from '../../mcp-client/src/login/cookie-jar.ts';

export { CookieJar };

/** Stable text the embedded IdP shows when credentials are wrong. */
export const INVALID_CREDENTIALS_TEXT = 'Invalid username or password';

export interface HeadlessAuthorizeOptions {
  /** The full authorization request URL (client_id, redirect_uri, PKCE, resource, state, …). */
  readonly authorizationUrl: string | URL;
  readonly username: string;
  readonly password: string;
  /** Where the IdP finally redirects; the flow stops there (nothing needs to listen at it). */
  readonly redirectUri: string;
  /** Injected fetch (defaults to the global one). */
  readonly fetch?: typeof fetch;
  /** Redirects and form posts allowed before giving up. */
  readonly maxSteps?: number;
}

export interface HeadlessAuthorizeResult {
  /** The full URL the IdP redirected to (for oauth4webapi's validateAuthResponse). */
  readonly callbackUrl: URL;
  readonly code: string | undefined;
  readonly state: string | undefined;
  readonly iss: string | undefined;
}

export type HeadlessLoginErrorCode = 'invalid_credentials' | 'authorization_error' | 'unexpected_response' | 'too_many_steps';

/** Why a headless sign-in stopped; `error`/`errorDescription` carry an OAuth error response's fields. */
export class HeadlessLoginError extends Error {
  readonly code: HeadlessLoginErrorCode;
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  readonly callbackUrl: URL | undefined;
  constructor(code: HeadlessLoginErrorCode, message: string, details: { error?: string; errorDescription?: string; callbackUrl?: URL } = {}) {
    super(message);
    this.name = 'HeadlessLoginError';
    this.code = code;
    this.error = details.error;
    this.errorDescription = details.errorDescription;
    this.callbackUrl = details.callbackUrl;
  }
}

function isRedirectTarget(url: URL, redirectUri: string): boolean {
  const target = new URL(redirectUri);
  return url.protocol === target.protocol && url.host === target.host && url.pathname === target.pathname;
}

const FORM_ACTION = /<form\b[^>]*\baction="([^"]+)"/i;

function decodeEntities(s: string): string {
  return s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/**
 * Runs the front-channel part of the authorization code flow without a browser:
 * GET authorize → 303 /interaction/:uid → GET login form (200) → POST /interaction/:uid/login → 303 /auth/:uid
 * → 303 /interaction/:uid2 (consent, granted automatically) → 303 /auth/:uid2 → 303 redirect_uri?code&state&iss.
 * Returns the callback parameters without validating them (the caller checks `state` and `iss`, RFC 9207).
 * Throws {@link HeadlessLoginError}: `invalid_credentials` when the form comes back with the error text,
 * `authorization_error` when the IdP redirects with `error`.
 */
export async function headlessAuthorize(opts: HeadlessAuthorizeOptions): Promise<HeadlessAuthorizeResult> {
  const doFetch = opts.fetch ?? fetch;
  const jar = new CookieJar();
  let url = new URL(opts.authorizationUrl);
  let init: RequestInit = { method: 'GET' };
  let posted = false;
  const maxSteps = opts.maxSteps ?? 12;

  for (let step = 0; step < maxSteps; step++) {
    if (isRedirectTarget(url, opts.redirectUri)) {
      const p = url.searchParams;
      const error = p.get('error');
      if (error !== null) {
        throw new HeadlessLoginError('authorization_error', `authorization failed: ${error}${p.get('error_description') ? ` (${p.get('error_description')})` : ''}`, {
          error,
          errorDescription: p.get('error_description') ?? undefined,
          callbackUrl: url,
        });
      }
      return { callbackUrl: url, code: p.get('code') ?? undefined, state: p.get('state') ?? undefined, iss: p.get('iss') ?? undefined };
    }

    const headers = new Headers(init.headers);
    const cookie = jar.header(url);
    if (cookie !== undefined) headers.set('cookie', cookie);
    const res = await doFetch(url, { ...init, headers, redirect: 'manual' });
    jar.store(url, res);

    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const location = res.headers.get('location');
      if (location === null) throw new HeadlessLoginError('unexpected_response', `redirect without Location from ${url.href}`);
      url = new URL(location, url);
      init = { method: 'GET' };
      continue;
    }

    const body = await res.text();
    if (res.status !== 200) {
      throw new HeadlessLoginError('unexpected_response', `unexpected HTTP ${res.status} from ${url.origin}${url.pathname}: ${body.slice(0, 300)}`);
    }
    if (posted && body.includes(INVALID_CREDENTIALS_TEXT)) {
      throw new HeadlessLoginError('invalid_credentials', `${INVALID_CREDENTIALS_TEXT} for user ${opts.username}`);
    }
    const action = FORM_ACTION.exec(body)?.[1];
    if (action === undefined || !/\bname="password"/.test(body)) {
      throw new HeadlessLoginError('unexpected_response', `no login form at ${url.origin}${url.pathname}`);
    }
    const formUrl = new URL(decodeEntities(action), url);
    url = formUrl;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: opts.username, password: opts.password }).toString(),
    };
    posted = true;
  }
  throw new HeadlessLoginError('too_many_steps', `sign-in did not reach ${opts.redirectUri} within ${maxSteps} steps`);
}
