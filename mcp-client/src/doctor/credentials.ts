/**
 * Tokens for the token checks. `--token` is used as given; `--login` runs the client's own steps (as-metadata,
 * registration, authorize, callback, token) with the resource the MCP server is, and, when `--foreign-resource`
 * names another resource the AS issues tokens for (the lab's embedded IdP knows one), a second time for it. The
 * doctor mints nothing it cannot sign. The RFC 9207 `iss` of the real authorization response is checked here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalResource } from '@mcp-lab/protocol';
import type * as oauth from 'oauth4webapi';
import { startCallbackListener } from '../callback-server.ts';
import { FlowError, messageOf } from '../errors.ts';
import type { StepEvent, StepName } from '../events.ts';
import { HttpRecorder, type FetchLike } from '../http.ts';
import { CookieJar } from '../login/cookie-jar.ts';
import type { LoginDriverName } from '../login/drivers.ts';
import type { Credentials } from '../login/headless.ts';
import { redactToken } from '../redact.ts';
import { selectScopes } from '../scopes.ts';
import { createStepContext, type StepContext } from '../step-context.ts';
import { TokenStore } from '../store.ts';
import { discoverAuthorizationServer } from '../steps/as-metadata.ts';
import { authorize, buildAuthorizationRequest, type UserAgent } from '../steps/authorize.ts';
import { validateCallback } from '../steps/callback.ts';
import { splitScope } from '../steps/probe.ts';
import { register, type ClientRegistration } from '../steps/registration.ts';
import { exchangeCode } from '../steps/token.ts';
import type { CheckDefinition } from './check.ts';
import type { DoctorContext } from './context.ts';
import type { CheckModule } from './module.ts';
import { rfc } from './spec.ts';

export interface DoctorCredentials {
  /** `--token`: an access token for this server. */
  readonly token?: string;
  /** `--login user:password`: the headless login of the client. */
  readonly login?: Credentials;
  readonly loginDriver?: LoginDriverName;
  /** Replaces the headless login (tests). */
  readonly userAgent?: UserAgent;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly clientMetadataUrl?: string;
  readonly scope?: readonly string[];
  /** A resource the AS issues tokens for that is not this server (a second audience). */
  readonly foreignResource?: string;
  /** Scopes that get a token whose audience is not this server (an AS that sets aud by scope, e.g. Dex). */
  readonly foreignScope?: readonly string[];
  /** `--foreign-token`: a token the AS issued for another audience. */
  readonly foreignToken?: string;
  /** `--expired-token`: an access token of this AS that has expired. */
  readonly expiredToken?: string;
}

export const AUTHORIZATION_RESPONSE_ISS: CheckDefinition = {
  id: 'authorization-response-iss',
  concern: 'authorization-server',
  title: 'The authorization response carries iss, equal to the issuer, when the metadata advertises it',
  meaning: 'An AS that advertises RFC 9207 but omits or alters iss makes every correct client refuse its authorization responses.',
  spec: rfc(9207, '2.4'),
  fix: 'Add iss=<issuer> to every authorization response (success and error), or stop advertising authorization_response_iss_parameter_supported.',
  needsCredentials: true,
};

/** The redirect_uri the client registers (loopback without a port, RFC 8252 §7.3); the same as the client's. */
const REGISTERED_REDIRECT_URI = 'http://127.0.0.1/callback';

interface LoginRun {
  readonly fetch: FetchLike;
  readonly onStep: (event: StepEvent) => void;
  readonly onDiagnostic: (message: string, level: 'info' | 'warn') => void;
}

/** Runs one client step as the orchestrator does: its exchanges and checks become a step event. */
async function step<T>(run: LoginRun, recorder: HttpRecorder, name: StepName, fn: (ctx: StepContext) => Promise<[T, Record<string, unknown>]>): Promise<T> {
  const ctx = createStepContext(run.fetch, run.onDiagnostic);
  recorder.take();
  const started = performance.now();
  try {
    const [value, data] = await fn(ctx);
    run.onStep({ step: name, status: 'ok', http: recorder.take(), checks: ctx.checks, ms: Math.round(performance.now() - started), data });
    return value;
  } catch (cause) {
    const err = cause instanceof FlowError ? cause : new FlowError(messageOf(cause), { cause });
    err.step ??= name;
    run.onStep({ step: name, status: 'fail', http: recorder.take(), checks: ctx.checks, ms: Math.round(performance.now() - started), data: { error: err.message } });
    throw err;
  }
}

interface Session {
  readonly as: oauth.AuthorizationServer;
  readonly client: ClientRegistration;
  readonly jar: CookieJar;
}

/** authorize → callback → token for one resource; returns the access token and the authorization response URL. */
async function authorizeFor(
  run: LoginRun,
  recorder: HttpRecorder,
  session: Session,
  creds: DoctorCredentials,
  resource: string,
  scopes: readonly string[],
  onCallback: (callbackUrl: URL) => void,
): Promise<string> {
  const listener = await startCallbackListener();
  try {
    const pending = await buildAuthorizationRequest({ as: session.as, clientId: session.client.client_id, resource, scopes, listener });
    const agent: UserAgent =
      creds.userAgent ??
      (async (ctx, url) => {
        const { headlessLogin } = await import('../login/headless.ts');
        return headlessLogin(ctx, { authorizationUrl: url, redirectUri: listener.redirectUri, credentials: creds.login, driver: creds.loginDriver ?? 'auto', jar: session.jar });
      });
    const callbackUrl = await step(run, recorder, 'authorize', async (ctx) => [await authorize(ctx, pending, listener, agent), { resource, scope: scopes.join(' ') }]);
    onCallback(callbackUrl);
    const params = await step(run, recorder, 'callback', async (ctx) => {
      const p = validateCallback(ctx, session.as, session.client.client_id, pending, callbackUrl);
      return [p, { iss: callbackUrl.searchParams.get('iss') ?? undefined, code: redactToken(p.get('code') ?? '') }];
    });
    const tokens = await step(run, recorder, 'token', async (ctx) => {
      const t = await exchangeCode(ctx, { as: session.as, client: session.client, resource }, params, pending.redirectUri, pending.codeVerifier, scopes);
      return [t, { resource, access_token: redactToken(t.access_token), expires_at: t.expires_at ? new Date(t.expires_at).toISOString() : undefined }];
    });
    return tokens.access_token;
  } finally {
    await listener.close();
  }
}

function reportIss(ctx: DoctorContext, as: oauth.AuthorizationServer, callbackUrl: URL): void {
  const iss = callbackUrl.searchParams.get('iss');
  const advertised = as.authorization_response_iss_parameter_supported === true;
  if (iss !== null) {
    ctx.report(AUTHORIZATION_RESPONSE_ISS, iss === as.issuer ? 'pass' : 'fail', `iss ${JSON.stringify(iss)}${iss === as.issuer ? '' : `, the issuer is ${JSON.stringify(as.issuer)}`}`);
  } else if (advertised) {
    ctx.report(AUTHORIZATION_RESPONSE_ISS, 'fail', 'authorization_response_iss_parameter_supported is true, but the authorization response has no iss');
  } else {
    ctx.report(AUTHORIZATION_RESPONSE_ISS, 'not-applicable', 'iss neither advertised nor sent (see as-iss-parameter)');
  }
}

type ModuleContext = Parameters<CheckModule['run']>[0];

/** The cases that need no login (a token given, no credentials, no authorization server named); true when handled. */
function withoutLogin(creds: DoctorCredentials, ctx: ModuleContext): boolean {
  const f = ctx.facts;
  if (creds.token !== undefined) {
    f.token = { accessToken: creds.token, source: 'option' };
    ctx.report(AUTHORIZATION_RESPONSE_ISS, 'not-applicable', 'the token was given with --token; no authorization was made');
    if (!f.foreignToken) f.noForeignTokenReason = 'no token for another audience: pass --foreign-token, or --login with --foreign-resource';
    return true;
  }
  let reason: string | undefined;
  if (!creds.login && !creds.userAgent) reason = 'no credentials: run with --login user:password or --token T';
  else if (f.prm?.issuer === undefined) reason = 'cannot log in: the resource names no authorization server';
  if (reason === undefined) return false;
  f.noTokenReason = reason;
  f.noForeignTokenReason = reason;
  ctx.report(AUTHORIZATION_RESPONSE_ISS, 'not-applicable', reason);
  return true;
}

/** Asks the AS for a token for a second audience (the foreign-audience check), or says why there is none. */
async function foreignToken(
  run: LoginRun,
  recorder: HttpRecorder,
  session: Session,
  creds: DoctorCredentials,
  ctx: ModuleContext,
  scopes: readonly string[],
): Promise<void> {
  const f = ctx.facts;
  if (f.foreignToken) return;
  if (!creds.foreignResource && !creds.foreignScope?.length) {
    f.noForeignTokenReason = 'no second audience to ask for: pass --foreign-resource URL (a resource this AS issues tokens for) or --foreign-scope (scopes whose token is not for this server)';
    return;
  }
  const resource = creds.foreignResource ?? canonicalResource(ctx.serverUrl);
  const foreignScopes = creds.foreignScope?.length ? creds.foreignScope : scopes;
  try {
    f.foreignToken = await authorizeFor(run, recorder, session, creds, resource, [...foreignScopes], () => undefined);
  } catch (err) {
    f.noForeignTokenReason = `the authorization server issued no token for ${resource} with scope "${foreignScopes.join(' ')}": ${messageOf(err)}`;
  }
}

/** AS metadata and registration for the login, as the client's own steps. */
async function loginSession(run: LoginRun, recorder: HttpRecorder, creds: DoctorCredentials, issuer: string, storeDir: string): Promise<Session> {
  const asm = await step(run, recorder, 'as-metadata', async (c) => {
    const r = await discoverAuthorizationServer(c, issuer);
    return [r, { url: r.url, issuer: r.as.issuer }];
  });
  const client = await step(run, recorder, 'registration', async (c) => {
    const r = await register(c, asm.as, new TokenStore(storeDir), {
      ...(creds.clientId !== undefined ? { clientId: creds.clientId } : {}),
      ...(creds.clientSecret !== undefined ? { clientSecret: creds.clientSecret } : {}),
      ...(creds.clientMetadataUrl !== undefined ? { clientMetadataUrl: creds.clientMetadataUrl } : {}),
      redirectUri: REGISTERED_REDIRECT_URI,
      clientName: 'mcp-lab-client doctor',
    });
    return [r, { method: r.method, client_id: r.client_id }];
  });
  return { as: asm.as, client, jar: new CookieJar() };
}

/** Logs in with the client's own steps and sets facts.token (and the foreign token); reports the response's iss. */
async function loginForTokens(creds: DoctorCredentials, fetch: FetchLike, onStep: (event: StepEvent) => void, ctx: ModuleContext, issuer: string): Promise<void> {
  const f = ctx.facts;
  const recorder = new HttpRecorder();
  const run: LoginRun = { fetch: recorder.wrap(fetch), onStep, onDiagnostic: (m, l) => ctx.diagnostic(m, l) };
  const storeDir = await mkdtemp(join(tmpdir(), 'mcp-lab-doctor-'));
  let issReported = false;
  try {
    ctx.diagnostic(`logging in at ${issuer} to test the server with real tokens …`);
    const session = await loginSession(run, recorder, creds, issuer, storeDir);
    const choice = selectScopes({
      ...(creds.scope?.length ? { override: creds.scope } : {}),
      ...(f.probe?.challenge?.params.scope ? { challenge: splitScope(f.probe.challenge.params.scope) } : {}),
      ...(f.prm?.metadata.scopes_supported ? { prmSupported: f.prm.metadata.scopes_supported } : {}),
    });
    const scopes = choice.scopes;
    const token = await authorizeFor(run, recorder, session, creds, canonicalResource(ctx.serverUrl), scopes, (url) => {
      issReported = true;
      reportIss(ctx, session.as, url);
    });
    f.token = { accessToken: token, source: 'login' };
    await foreignToken(run, recorder, session, creds, ctx, scopes);
  } catch (err) {
    const where = err instanceof FlowError && err.step ? ` at step ${err.step}` : '';
    f.noTokenReason = `the login failed${where}: ${messageOf(err)}`;
    f.noForeignTokenReason ??= f.noTokenReason;
    ctx.diagnostic(f.noTokenReason, 'warn');
    if (!issReported) ctx.report(AUTHORIZATION_RESPONSE_ISS, 'not-applicable', f.noTokenReason);
  } finally {
    await rm(storeDir, { recursive: true, force: true });
  }
}

/**
 * The credentials module: sets `facts.token` (and the foreign and expired tokens) and reports
 * authorization-response-iss. Step events of a login go to `onStep` (the trace export).
 */
export function credentialsModule(creds: DoctorCredentials, fetch: FetchLike, onStep: (event: StepEvent) => void): CheckModule {
  return {
    name: 'credentials',
    checks: [AUTHORIZATION_RESPONSE_ISS],
    async run(ctx) {
      const f = ctx.facts;
      if (creds.expiredToken) f.expiredToken = creds.expiredToken;
      if (creds.foreignToken) f.foreignToken = creds.foreignToken;
      if (withoutLogin(creds, ctx)) return;
      await loginForTokens(creds, fetch, onStep, ctx, f.prm!.issuer!);
    },
  };
}
