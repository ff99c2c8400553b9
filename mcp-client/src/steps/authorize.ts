/**
 * Step 5: the authorization request (OAuth 2.1 §4.1.1) with PKCE S256, state, the RFC 8707 resource and the
 * selected scope, sent to a user agent: the person's browser, or the headless login driver.
 */
import * as oauth from 'oauth4webapi';
import type { CallbackListener } from '../callback-server.ts';
import { FlowError } from '../errors.ts';
import type { StepContext } from '../step-context.ts';

/** What the callback and token steps need to finish this authorization (the "per-request record"). */
export interface PendingAuthorization {
  readonly authorizationUrl: URL;
  readonly state: string;
  readonly codeVerifier: string;
  readonly redirectUri: string;
  /** The issuer from the validated metadata, recorded before redirecting (MCP Authorization Response Validation). */
  readonly expectedIssuer: string;
  readonly resource: string;
  readonly scopes: readonly string[];
  /** Extra parameters sent with the request (`--authorize-param`). */
  readonly extraParams: Readonly<Record<string, string>>;
}

export interface AuthorizeInput {
  readonly as: oauth.AuthorizationServer;
  readonly clientId: string;
  readonly resource: string;
  readonly scopes: readonly string[];
  /** Only its redirect URI is needed (a browser page has no listener: its own /callback is the redirect URI). */
  readonly listener: Pick<CallbackListener, 'redirectUri'>;
  /** Extra parameters (`--authorize-param`), added after the flow's own; args.ts refuses the reserved names. */
  readonly extraParams?: Readonly<Record<string, string>>;
}

/** Takes a user agent to the authorization URL and returns where the authorization server sent it back. */
export type UserAgent = (ctx: StepContext, authorizationUrl: URL, listener: CallbackListener) => Promise<URL>;

/** Builds the authorization request. */
export async function buildAuthorizationRequest(input: AuthorizeInput): Promise<PendingAuthorization> {
  if (!input.as.authorization_endpoint) throw new FlowError('the authorization server has no authorization_endpoint');
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
  const state = oauth.generateRandomState();
  const url = new URL(input.as.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', input.clientId);
  url.searchParams.set('redirect_uri', input.listener.redirectUri);
  url.searchParams.set('code_challenge', codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  url.searchParams.set('resource', input.resource);
  if (input.scopes.length) url.searchParams.set('scope', input.scopes.join(' '));
  for (const [name, value] of Object.entries(input.extraParams ?? {})) {
    if (url.searchParams.has(name)) throw new FlowError(`extra authorization parameter ${name} would replace the flow's own`, { code: 'invalid-options' });
    url.searchParams.set(name, value);
  }
  return {
    authorizationUrl: url,
    state,
    codeVerifier,
    redirectUri: input.listener.redirectUri,
    expectedIssuer: input.as.issuer,
    resource: input.resource,
    scopes: input.scopes,
    extraParams: input.extraParams ?? {},
  };
}

/** Runs the user agent; returns the authorization response URL. */
export async function authorize(
  ctx: StepContext,
  pending: PendingAuthorization,
  listener: CallbackListener,
  agent: UserAgent,
): Promise<URL> {
  ctx.record({ name: 'PKCE', ok: true, detail: 'code_challenge_method S256' });
  ctx.record({ name: 'resource indicator', ok: true, detail: pending.resource });
  ctx.record({ name: 'scope', ok: true, detail: pending.scopes.join(' ') || '(none requested)' });
  const extra = Object.entries(pending.extraParams);
  if (extra.length) ctx.record({ name: 'extra authorization parameters (--authorize-param)', ok: true, detail: extra.map(([k, v]) => `${k}=${v}`).join(' ') });
  return agent(ctx, pending.authorizationUrl, listener);
}

/** The person's browser: print the URL, try to open it, wait for the loopback redirect. */
export function browserAgent(open: (url: string) => Promise<boolean>, timeoutMs = 300_000): UserAgent {
  return async (ctx, authorizationUrl, listener) => {
    ctx.diagnostic(`Open this URL in a browser to authorize:\n  ${authorizationUrl.href}`);
    const opened = await open(authorizationUrl.href);
    if (!opened) ctx.diagnostic('Could not open a browser automatically; open the URL above yourself.', 'warn');
    ctx.diagnostic(`Waiting for the redirect to ${listener.redirectUri} …`);
    return listener.wait(timeoutMs);
  };
}
