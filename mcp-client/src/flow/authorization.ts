/**
 * authorize → callback → token (OAuth 2.1 §4.1 with PKCE, RFC 8707 resource, RFC 9207 iss), for the chosen
 * scopes plus offline_access when the AS lists it.
 */
import { startCallbackListener, type CallbackListener } from '../callback-server.ts';
import { FlowError } from '../errors.ts';
import { redactToken } from '../redact.ts';
import { selectScopes, withOfflineAccess, type ScopeChoice } from '../scopes.ts';
import type { StoredTokens } from '../store.ts';
import { authorize as authorizeStep, browserAgent, buildAuthorizationRequest, type UserAgent } from '../steps/authorize.ts';
import { validateCallback } from '../steps/callback.ts';
import { describeTokens, exchangeCode } from '../steps/token.ts';
import { nextAfterGrantFailure } from './next-action.ts';
import type { AuthContext, FlowRun } from './types.ts';

/** The first scope choice: `--scope`, else the challenge's, else the PRM's scopes_supported (scopes.ts). */
export function initialScopes(run: FlowRun, auth: AuthContext, challenge?: readonly string[]): ScopeChoice {
  const fromChallenge = challenge ?? auth.challengeScope;
  return selectScopes({
    ...(run.opts.scope ? { override: run.opts.scope } : {}),
    ...(fromChallenge ? { challenge: fromChallenge } : {}),
    ...(auth.prmScopes ? { prmSupported: auth.prmScopes } : {}),
  });
}

/**
 * A new authorization. offline_access is the client's own addition (MCP Refresh Tokens: MAY), so an
 * invalid_scope answer to it is retried once without it — some ASes list it in scopes_supported without
 * allowing it to every client.
 */
export async function authorize(run: FlowRun, auth: AuthContext, choice: ScopeChoice): Promise<StoredTokens> {
  const scopes = run.offlineRefused ? [...choice.scopes] : withOfflineAccess(choice.scopes, auth.as.scopes_supported);
  try {
    return await authorizeOnce(run, auth, choice, scopes);
  } catch (err) {
    if (!(err instanceof FlowError)) throw err;
    const addedOfflineAccess = scopes.length > choice.scopes.length;
    const recovery = nextAfterGrantFailure(err.code, { storedRegistration: false, registeredAgain: false, addedOfflineAccess });
    if (recovery !== 'retry-without-offline-access') throw err;
    run.offlineRefused = true;
    run.opts.observer.diagnostic({ level: 'warn', message: 'the authorization server refused offline_access for this client; authorizing again without it (no refresh token)' });
    return authorizeOnce(run, auth, choice, [...choice.scopes]);
  }
}

/** The user agent: the conformance suite's, the headless login (`--login`), or the person's browser. */
function userAgentFor(run: FlowRun, listener: CallbackListener): { readonly agent: UserAgent; readonly kind: string } {
  const o = run.opts;
  if (o.userAgent) return { agent: o.userAgent, kind: 'custom' };
  const credentials = o.login;
  if (!credentials) return { agent: browserAgent(o.openBrowser), kind: 'browser' };
  const agent: UserAgent = async (ctx, url) => {
    // Imported only when logging in: a warm run never needs the HTML form drivers.
    const { headlessLogin } = await import('../login/headless.ts');
    return headlessLogin(ctx, { authorizationUrl: url, redirectUri: listener.redirectUri, credentials, driver: o.loginDriver, jar: run.jar });
  };
  return { agent, kind: 'headless' };
}

async function authorizeOnce(run: FlowRun, auth: AuthContext, choice: ScopeChoice, scopes: readonly string[]): Promise<StoredTokens> {
  const listener = await startCallbackListener();
  try {
    const pending = await buildAuthorizationRequest({
      as: auth.as,
      clientId: auth.client.client_id,
      resource: auth.resource,
      scopes,
      listener,
      ...(run.opts.authorizeParams ? { extraParams: run.opts.authorizeParams } : {}),
    });
    const { agent, kind } = userAgentFor(run, listener);
    const callbackUrl = await run.step('authorize', async (ctx) => {
      ctx.record({ name: 'scope selection', ok: true, detail: `${choice.source}${scopes.length > choice.scopes.length ? ' + offline_access (AS supports it)' : ''}` });
      const url = await authorizeStep(ctx, pending, listener, agent);
      return [url, {
        authorization_endpoint: auth.as.authorization_endpoint,
        authorization_url: pending.authorizationUrl.href,
        redirect_uri: pending.redirectUri,
        resource: pending.resource,
        scope: scopes.join(' '),
        scope_source: choice.source,
        user_agent: kind,
      }];
    });
    const params = await run.step('callback', async (ctx) => {
      const p = validateCallback(ctx, auth.as, auth.client.client_id, pending, callbackUrl);
      return [p, { iss: callbackUrl.searchParams.get('iss') ?? undefined, code: redactToken(p.get('code') ?? '') }];
    });
    return await run.step('token', async (ctx) => {
      const t = await exchangeCode(ctx, auth, params, pending.redirectUri, pending.codeVerifier, scopes);
      await run.opts.store.putTokens(t);
      return [t, describeTokens(t)];
    });
  } finally {
    await listener.close();
  }
}
