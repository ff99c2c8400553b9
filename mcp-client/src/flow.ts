/**
 * The orchestrator: runs the MCP authorization sequence one step at a time and emits a step event for each
 * (MCP Authorization: Authorization Flow Steps). It owns the policy between steps: stored token before login,
 * refresh before re-authorization, step-up on insufficient_scope (at most twice).
 */
import { canonicalResource } from '@mcp-lab/protocol';
import * as oauth from 'oauth4webapi';
import { startCallbackListener } from './callback-server.ts';
import { FlowError, messageOf } from './errors.ts';
import type { FlowObserver, StepName } from './events.ts';
import { HttpRecorder, type FetchLike } from './http.ts';
import { CookieJar } from './login/cookie-jar.ts';
import type { LoginDriverName } from './login/drivers.ts';
import type { Credentials } from './login/headless.ts';
import { redactToken, type SecretSet } from './redact.ts';
import { selectScopes, withOfflineAccess, type ScopeChoice } from './scopes.ts';
import { createStepContext, type StepContext } from './step-context.ts';
import type { StoredTokens, TokenStore } from './store.ts';
import { discoverAuthorizationServer } from './steps/as-metadata.ts';
import { authorize, browserAgent, buildAuthorizationRequest, type UserAgent } from './steps/authorize.ts';
import { validateCallback } from './steps/callback.ts';
import { AuthFailureError, connectMcp, loadMcpSdk, openCookieSession, type McpAuth, type McpConnection } from './steps/mcp.ts';
import { probe, splitScope, type TransportKind } from './steps/probe.ts';
import { register, type ClientRegistration } from './steps/registration.ts';
import { discoverLegacyAuthorizationServer } from './steps/legacy-discovery.ts';
import { ResourceMetadataNotFoundError, discoverResourceMetadata, type ResourceMetadataResult } from './steps/resource-metadata.ts';
import { describeTokens, exchangeCode, refreshTokens } from './steps/token.ts';

export type Command = 'connect' | 'tools' | 'call';

export interface FlowOptions {
  readonly command: Command;
  readonly serverUrl: string;
  readonly transport: TransportKind;
  /** Lab cookie mode (sse only): POST /session with the token, then the cookie. */
  readonly cookie: boolean;
  readonly login?: Credentials;
  readonly loginDriver: LoginDriverName;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly clientMetadataUrl?: string;
  /** `--scope`: overrides the scope selection strategy. */
  readonly scope?: readonly string[];
  readonly call?: { readonly tool: string; readonly args: Record<string, unknown> };
  readonly store: TokenStore;
  readonly fetch: FetchLike;
  readonly observer: FlowObserver;
  /** Opens the person's browser; resolves false when it could not. */
  readonly openBrowser: (url: string) => Promise<boolean>;
  /** Replaces the browser / headless login (conformance mode). */
  readonly userAgent?: UserAgent;
  /** The redirect_uri registered with DCR; loopback without a port (RFC 8252 §7.3). */
  readonly registeredRedirectUri?: string;
  readonly maxStepUps?: number;
  /** Margin before expiry at which a stored access token counts as expired. */
  readonly expiryMarginMs?: number;
}

export interface FlowResult {
  readonly tools?: readonly { name: string; description?: string }[];
  readonly callResult?: unknown;
}

/** Step data: what each step returns for its event. */
type StepData = Record<string, unknown>;

interface Authorized {
  readonly auth: AuthContext;
  readonly tokens: StoredTokens;
}

interface AuthContext {
  readonly as: oauth.AuthorizationServer;
  readonly client: ClientRegistration;
  readonly resource: string;
  readonly challengeScope: readonly string[] | undefined;
  readonly prmScopes: readonly string[] | undefined;
}

export const DEFAULT_REDIRECT_URI = 'http://127.0.0.1/callback';

export class Flow {
  readonly #opts: FlowOptions;
  readonly #recorder = new HttpRecorder();
  readonly #fetch: FetchLike;
  readonly #jar = new CookieJar();
  /** The AS refused offline_access once in this run; don't ask again (e.g. at a step-up). */
  #offlineRefused = false;

  constructor(opts: FlowOptions) {
    this.#opts = opts;
    this.#fetch = this.#recorder.wrap(opts.fetch);
  }

  /** Runs one step: times it, collects its HTTP exchanges and checks, and emits its event. */
  async #step<T>(name: StepName, fn: (ctx: StepContext) => Promise<[T, StepData]>, onFail?: (err: FlowError) => StepData): Promise<T> {
    // Every printed value is searched for the credentials this run holds (redact.ts SecretSet), whoever echoed them.
    const secrets = this.#recorder.secrets;
    const ctx = createStepContext(this.#fetch, (message, level) => this.#opts.observer.diagnostic({ level, message: secrets.scrub(message) }));
    this.#recorder.take();
    const started = performance.now();
    try {
      const [value, data] = await fn(ctx);
      rememberTokens(secrets, value);
      this.#opts.observer.step(secrets.scrubDeep({ step: name, status: 'ok', http: this.#recorder.take(), checks: ctx.checks, ms: Math.round(performance.now() - started), data }));
      return value;
    } catch (cause) {
      const err = cause instanceof FlowError ? cause : new FlowError(messageOf(cause), { cause });
      err.step ??= name;
      err.message = secrets.scrub(err.message);
      this.#opts.observer.step(secrets.scrubDeep({
        step: name,
        status: 'fail',
        http: this.#recorder.take(),
        checks: ctx.checks,
        ms: Math.round(performance.now() - started),
        data: { error: err.message, ...(err.hint ? { hint: err.hint } : {}), ...(onFail ? onFail(err) : {}) },
      }));
      throw err;
    }
  }

  async run(): Promise<FlowResult> {
    const o = this.#opts;
    let serverUrl: string;
    try {
      serverUrl = new URL(o.serverUrl).href;
    } catch (cause) {
      throw new FlowError(`not a URL: ${o.serverUrl}`, { hint: 'pass the MCP endpoint, e.g. http://127.0.0.1:3000/mcp', cause });
    }
    if (o.cookie && o.transport !== 'sse') throw new FlowError('--cookie works with --transport sse only');
    // Every command ends with MCP steps: start loading the SDK now, so that it overlaps the requests before
    // initialize. A failed load is reported by connectMcp, which awaits the same promise.
    loadMcpSdk(o.transport).catch(() => undefined);
    const warm = await this.#warmToken(serverUrl);
    if (warm) return this.#mcp(serverUrl, undefined, warm);
    const probed = await this.#step('probe', async (ctx) => {
      const r = await probe(ctx, serverUrl, o.transport);
      return [r, { status: r.status, auth_required: r.authRequired, resource_metadata: r.resourceMetadataUrl, scope: r.scope?.join(' ') }];
    });
    if (!probed.authRequired) return this.#mcp(serverUrl, undefined);
    return this.#mcp(serverUrl, await this.#discover(serverUrl, probed.resourceMetadataUrl, probed.scope));
  }

  /**
   * resource-metadata → as-metadata (or, when the server has no PRM at all, the deprecated legacy-discovery) →
   * registration, then a token (stored, refreshed or new). Runs after the probe's 401, or later when a server
   * that let the probe through answers 401 to an operation.
   */
  async #discover(
    serverUrl: string,
    resourceMetadataUrl: string | undefined,
    challengeScope: readonly string[] | undefined,
    rejected?: StoredTokens,
  ): Promise<Authorized> {
    const o = this.#opts;
    const prm = await this.#resourceMetadata(serverUrl, resourceMetadataUrl);
    const asm = prm
      ? await this.#step('as-metadata', async (ctx) => {
          const r = await discoverAuthorizationServer(ctx, prm.issuer);
          return [r, { url: r.url, ...describeAs(r.as) }];
        })
      : await this.#step('legacy-discovery', async (ctx) => {
          const r = await discoverLegacyAuthorizationServer(ctx, serverUrl);
          return [r, {
            deprecated: 'MCP 2025-03-26 authorization discovery: the server publishes no Protected Resource Metadata',
            authorization_base_url: r.authorizationBaseUrl,
            metadata_url: r.metadataUrl,
            source: r.source,
            ...describeAs(r.as),
          }];
        });
    const registration = () =>
      this.#step('registration', async (ctx) => {
        const r = await register(ctx, asm.as, o.store, {
          ...(o.clientId !== undefined ? { clientId: o.clientId } : {}),
          ...(o.clientSecret !== undefined ? { clientSecret: o.clientSecret } : {}),
          ...(o.clientMetadataUrl !== undefined ? { clientMetadataUrl: o.clientMetadataUrl } : {}),
          redirectUri: o.registeredRedirectUri ?? DEFAULT_REDIRECT_URI,
        });
        return [r, { method: r.method, client_id: r.client_id, token_endpoint_auth_method: r.token_endpoint_auth_method }];
      });
    const client = await registration();
    const base = {
      as: asm.as,
      // RFC 8707 resource: the PRM's `resource` exactly as published; the server URL only without PRM (legacy).
      resource: prm?.resource ?? canonicalResource(serverUrl),
      challengeScope,
      prmScopes: prm?.metadata.scopes_supported,
    };
    const auth: AuthContext = { ...base, client };
    try {
      return { auth, tokens: await this.#initialTokens(auth, rejected) };
    } catch (err) {
      // A stored dynamic registration the authorization server no longer knows (e.g. an IdP with in-memory
      // storage restarted): forget it, register again, and try once more.
      if (!(err instanceof FlowError) || client.method !== 'stored-dcr' || !/invalid_client/.test(err.message)) throw err;
      o.observer.diagnostic({ level: 'warn', message: `the authorization server no longer knows client ${client.client_id}; registering again` });
      await o.store.forgetRegistration(asm.as.issuer);
      const again: AuthContext = { ...base, client: await registration() };
      return { auth: again, tokens: await this.#initialTokens(again, rejected) };
    }
  }

  /**
   * PRM discovery. Returns undefined only when the server has no PRM at all (no resource_metadata in its
   * challenge, 404 at every well-known URI): the one case that continues with the deprecated legacy-discovery
   * step. A PRM document that exists but fails a check (resource mismatch, no authorization_servers, invalid
   * JSON), a challenge URL that fails, or a 5xx/network error refuses as before.
   */
  async #resourceMetadata(serverUrl: string, resourceMetadataUrl: string | undefined): Promise<ResourceMetadataResult | undefined> {
    const legacyAllowed = (err: FlowError) => err instanceof ResourceMetadataNotFoundError && err.legacyFallbackAllowed;
    try {
      return await this.#step('resource-metadata', async (ctx) => {
        const r = await discoverResourceMetadata(ctx, serverUrl, resourceMetadataUrl);
        return [r, { url: r.url, via: r.via, resource: r.metadata.resource, authorization_servers: r.metadata.authorization_servers, scopes_supported: r.metadata.scopes_supported, issuer: r.issuer }];
      }, (err) => (legacyAllowed(err) ? { next: 'legacy-discovery' } : {}));
    } catch (err) {
      if (err instanceof FlowError && legacyAllowed(err)) return undefined;
      throw err;
    }
  }

  /**
   * The warm path: a stored, unexpired access token issued for exactly this resource (the canonical server
   * URL, as sent in the `resource` parameter, RFC 8707) goes straight to initialize, without probe and
   * discovery. The (issuer, client_id, resource) recorded at issuance is the authority: a token is never sent
   * to another resource, and with several candidates (other authorization servers or clients) discovery
   * decides. A 401/403 from the server then leads to full discovery (see #mcp).
   */
  async #warmToken(serverUrl: string): Promise<StoredTokens | undefined> {
    const o = this.#opts;
    const resource = canonicalResource(serverUrl);
    const wantedClient = o.clientId ?? o.clientMetadataUrl;
    const candidates = (await o.store.getTokensForResource(resource)).filter(
      (t) => t.resource === resource && (wantedClient === undefined || t.client_id === wantedClient) && this.#unexpired(t),
    );
    const stored = candidates.length === 1 ? candidates[0] : undefined;
    if (!stored) return undefined;
    return this.#step('stored-token', async (ctx) => {
      ctx.record({ name: 'stored token for this resource', ok: true, detail: resource });
      ctx.record({ name: 'issued by (recorded at issuance)', ok: true, detail: `${stored.issuer}, client ${stored.client_id}` });
      ctx.record({ name: 'not expired', ok: true, detail: stored.expires_at ? new Date(stored.expires_at).toISOString() : 'no expiry known' });
      ctx.record({ name: 'discovery skipped', ok: true, detail: 'the store names the authorization server; a 401/403 from the server leads to full discovery' });
      return [stored, { ...describeTokens(stored), source: 'store', issuer: stored.issuer, client_id: stored.client_id, resource, discovery: 'skipped' }];
    });
  }

  #unexpired(t: StoredTokens): boolean {
    return t.expires_at === undefined || t.expires_at - (this.#opts.expiryMarginMs ?? 30_000) > Date.now();
  }

  /**
   * A stored token if still valid, else a refresh, else a new authorization. `rejected` is a token the server
   * just refused on the warm path: when discovery leads back to it, it is returned as it is, and #mcp answers
   * the server's refusal (refresh or authorize on 401, step-up on 403) as for any other token.
   */
  async #initialTokens(auth: AuthContext, rejected?: StoredTokens): Promise<StoredTokens> {
    const o = this.#opts;
    const stored = await o.store.getTokens(auth.as.issuer, auth.client.client_id, auth.resource);
    if (stored && rejected && stored.access_token === rejected.access_token) return stored;
    if (stored && this.#unexpired(stored)) {
      return this.#step('stored-token', async (ctx) => {
        ctx.record({ name: 'stored token for (issuer, client_id, resource)', ok: true, detail: `${auth.as.issuer}, ${auth.client.client_id}, ${auth.resource}` });
        ctx.record({ name: 'not expired', ok: true, detail: stored.expires_at ? new Date(stored.expires_at).toISOString() : 'no expiry known' });
        return [stored, describeTokens(stored)];
      });
    }
    if (stored?.refresh_token) {
      const refreshed = await this.#refresh(auth, stored);
      if (refreshed) return refreshed;
    }
    return this.#authorize(auth, this.#initialScopes(auth));
  }

  #initialScopes(auth: AuthContext, challenge?: readonly string[]): ScopeChoice {
    return selectScopes({
      ...(this.#opts.scope ? { override: this.#opts.scope } : {}),
      ...((challenge ?? auth.challengeScope) ? { challenge: challenge ?? auth.challengeScope } : {}),
      ...(auth.prmScopes ? { prmSupported: auth.prmScopes } : {}),
    });
  }

  /** Refresh; returns undefined (after a failed step event) when the authorization server refused. */
  async #refresh(auth: AuthContext, current: StoredTokens): Promise<StoredTokens | undefined> {
    try {
      return await this.#step('refresh', async (ctx) => {
        const t = await refreshTokens(ctx, auth, current);
        await this.#opts.store.putTokens(t);
        return [t, describeTokens(t)];
      }, () => ({ next: 'authorize' }));
    } catch (err) {
      if (err instanceof FlowError) return undefined;
      throw err;
    }
  }

  /**
   * authorize → callback → token, for the given scopes plus offline_access when the AS lists it. offline_access
   * is the client's own addition (MCP Refresh Tokens: MAY), so an invalid_scope answer to it is retried once
   * without it — some ASes list it in scopes_supported without allowing it to every client.
   */
  async #authorize(auth: AuthContext, choice: ScopeChoice): Promise<StoredTokens> {
    const scopes = this.#offlineRefused ? [...choice.scopes] : withOfflineAccess(choice.scopes, auth.as.scopes_supported);
    try {
      return await this.#authorizeOnce(auth, choice, scopes);
    } catch (err) {
      const invalidScope = err instanceof FlowError && err.cause instanceof oauth.AuthorizationResponseError && err.cause.error === 'invalid_scope';
      if (!invalidScope || scopes.length === choice.scopes.length) throw err;
      this.#offlineRefused = true;
      this.#opts.observer.diagnostic({ level: 'warn', message: 'the authorization server refused offline_access for this client; authorizing again without it (no refresh token)' });
      return this.#authorizeOnce(auth, choice, [...choice.scopes]);
    }
  }

  async #authorizeOnce(auth: AuthContext, choice: ScopeChoice, scopes: readonly string[]): Promise<StoredTokens> {
    const o = this.#opts;
    const listener = await startCallbackListener();
    try {
      const pending = await buildAuthorizationRequest({ as: auth.as, clientId: auth.client.client_id, resource: auth.resource, scopes, listener });
      const agentKind = o.userAgent ? 'custom' : o.login ? 'headless' : 'browser';
      const agent: UserAgent =
        o.userAgent ??
        (o.login
          ? async (ctx, url) => {
              // Imported only when logging in: a warm run never needs the HTML form drivers.
              const { headlessLogin } = await import('./login/headless.ts');
              return headlessLogin(ctx, { authorizationUrl: url, redirectUri: listener.redirectUri, credentials: o.login, driver: o.loginDriver, jar: this.#jar });
            }
          : browserAgent(o.openBrowser));
      const callbackUrl = await this.#step('authorize', async (ctx) => {
        ctx.record({ name: 'scope selection', ok: true, detail: `${choice.source}${scopes.length > choice.scopes.length ? ' + offline_access (AS supports it)' : ''}` });
        const url = await authorize(ctx, pending, listener, agent);
        return [url, {
          authorization_endpoint: auth.as.authorization_endpoint,
          authorization_url: pending.authorizationUrl.href,
          redirect_uri: pending.redirectUri,
          resource: pending.resource,
          scope: scopes.join(' '),
          scope_source: choice.source,
          user_agent: agentKind,
        }];
      });
      const params = await this.#step('callback', async (ctx) => {
        const p = validateCallback(ctx, auth.as, auth.client.client_id, pending, callbackUrl);
        return [p, { iss: callbackUrl.searchParams.get('iss') ?? undefined, code: redactToken(p.get('code') ?? '') }];
      });
      return await this.#step('token', async (ctx) => {
        const t = await exchangeCode(ctx, auth, params, pending.redirectUri, pending.codeVerifier, scopes);
        await o.store.putTokens(t);
        return [t, describeTokens(t)];
      });
    } finally {
      await listener.close();
    }
  }

  /** MCP: initialize, then the command's operations, with refresh / re-authorization / step-up on auth failures. */
  async #mcp(serverUrl: string, authorized: Authorized | undefined, warm?: StoredTokens): Promise<FlowResult> {
    const o = this.#opts;
    let auth = authorized?.auth;
    /** Set while a stored token is in use without discovery (warm path). */
    let warmToken = warm;
    let tokens = authorized?.tokens ?? warm;
    const ops: ('tools-list' | 'tools-call')[] = [];
    if (o.command !== 'call') ops.push('tools-list');
    if (o.call) ops.push('tools-call');
    const result: { tools?: { name: string; description?: string }[]; callResult?: unknown } = {};
    let conn: McpConnection | undefined;
    let next = 0;
    let refreshTried = false;
    let reauthorized = false;
    let stepUps = 0;
    const maxStepUps = o.maxStepUps ?? 2;
    const nextAction = (err: FlowError): StepData => {
      if (!(err instanceof AuthFailureError)) return {};
      const f = err.failure;
      if (warmToken) return { next: 'discovery' };
      if (f.status === 403 && f.challenge?.params.error === 'insufficient_scope') return { next: stepUps < maxStepUps ? 'step-up' : 'give up' };
      if (f.status === 401) return { next: !refreshTried && tokens?.refresh_token ? 'refresh' : reauthorized ? 'give up' : 'authorize' };
      return {};
    };
    try {
      for (;;) {
        try {
          if (!conn) {
            let mcpAuth: McpAuth = { kind: 'none' };
            if (tokens && o.cookie) {
              const t = tokens;
              const session = await this.#step('session', async (ctx) => {
                const s = await openCookieSession(ctx, serverUrl, t.access_token);
                return [s, { cookie: `${s.cookie.split('=')[0]}=${redactToken(s.cookie.split('=')[1] ?? '')}`, origin: s.origin }];
              }, nextAction);
              mcpAuth = { kind: 'cookie', cookie: session.cookie, origin: session.origin };
            } else if (tokens) {
              mcpAuth = { kind: 'bearer', accessToken: tokens.access_token };
            }
            conn = await this.#step('initialize', async (ctx) => {
              const c = await connectMcp(ctx, this.#fetch, serverUrl, o.transport, mcpAuth);
              const v = c.client.getServerVersion();
              return [c, { server: v ? `${v.name} ${v.version}` : undefined, transport: o.transport, credentials: mcpAuth.kind }];
            }, nextAction);
          }
          const c: McpConnection = conn;
          for (; next < ops.length; next++) {
            if (ops[next] === 'tools-list') {
              result.tools = await this.#step('tools-list', async (ctx) => {
                const r = await c.run('tools/list', (cl) => cl.listTools());
                ctx.record({ name: 'tools listed', ok: true, detail: `${r.tools.length}` });
                const tools = r.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}) }));
                return [tools, { tools }];
              }, nextAction);
            } else {
              const call = o.call as NonNullable<FlowOptions['call']>;
              result.callResult = await this.#step('tools-call', async (ctx) => {
                const r = await c.run('tools/call', (cl) => cl.callTool({ name: call.tool, arguments: call.args }));
                const isError = r.isError === true;
                ctx.check('tool succeeded', !isError, isError ? toolText(r.content) : call.tool, 'the tool reported an error; see its message');
                return [r, { tool: call.tool, arguments: call.args, content: r.content, structuredContent: r.structuredContent }];
              }, nextAction);
            }
          }
          return result;
        } catch (err) {
          if (!(err instanceof AuthFailureError)) throw err;
          await conn?.close();
          conn = undefined;
          const f = err.failure;
          if (warmToken) {
            // The server refused the stored token sent without discovery: discover now, from its challenge. When
            // discovery leads back to the same issuer, client and resource, the refusal is answered below as for
            // any token; a challenge naming another authorization server leads to that one.
            const rejected = warmToken;
            warmToken = undefined;
            const found = await this.#discover(serverUrl, f.challenge?.params.resource_metadata, splitScope(f.challenge?.params.scope), rejected);
            auth = found.auth;
            tokens = found.tokens;
            if (tokens.access_token !== rejected.access_token) continue;
          } else if (!auth || !tokens) {
            // The probe got through without a token, but this operation needs one: discover now.
            if (f.status !== 401) throw err;
            const found = await this.#discover(serverUrl, f.challenge?.params.resource_metadata, splitScope(f.challenge?.params.scope));
            auth = found.auth;
            tokens = found.tokens;
            continue;
          }
          if (f.status === 403 && f.challenge?.params.error === 'insufficient_scope') {
            if (stepUps >= maxStepUps) {
              throw new FlowError(`still insufficient_scope after ${maxStepUps} step-up authorizations`, {
                step: 'step-up',
                hint: `the server wants "${f.challenge.params.scope ?? '?'}"; the authorization server did not grant it to this user`,
              });
            }
            stepUps++;
            const previous = tokens.requested_scope;
            const challenge = (f.challenge.params.scope ?? '').split(' ').filter(Boolean);
            const choice = selectScopes({ previous, challenge });
            await this.#step('step-up', async (ctx) => {
              ctx.record({ name: 'insufficient_scope', ok: true, detail: f.challenge?.params.error_description ?? 'HTTP 403' });
              ctx.record({ name: 'union of previously requested and challenged scopes', ok: true, detail: choice.scopes.join(' ') });
              return [undefined, { attempt: stepUps, max: maxStepUps, previous_scope: previous.join(' '), challenge_scope: challenge.join(' '), scope: choice.scopes.join(' ') }];
            });
            tokens = await this.#authorize(auth, choice);
            continue;
          }
          if (f.status === 401) {
            if (!refreshTried && tokens.refresh_token) {
              refreshTried = true;
              const refreshed = await this.#refresh(auth, tokens);
              if (refreshed) {
                tokens = refreshed;
                continue;
              }
            }
            if (!reauthorized) {
              reauthorized = true;
              const challenge = f.challenge?.params.scope?.split(' ').filter(Boolean);
              const choice = tokens.requested_scope.length
                ? selectScopes({ previous: tokens.requested_scope, ...(challenge ? { challenge } : {}) })
                : this.#initialScopes(auth, challenge);
              tokens = await this.#authorize(auth, choice);
              continue;
            }
            throw new FlowError('the MCP server still answers 401 after a new authorization', {
              hint: 'the token the authorization server issues is not accepted by this server (audience, issuer or algorithm); run `mcp-lab-client logout` and check the server configuration',
            });
          }
          throw err;
        }
      }
    } finally {
      await conn?.close(true);
    }
  }
}

/** A step that returned tokens (stored, refreshed or new): the run now holds them, so they are never printed. */
function rememberTokens(secrets: SecretSet, value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const t = value as Partial<StoredTokens>;
  secrets.remember(t.access_token);
  secrets.remember(t.refresh_token);
}

/** What the discovery steps show of the authorization server metadata they settled on. */
function describeAs(as: oauth.AuthorizationServer): StepData {
  return {
    issuer: as.issuer,
    authorization_endpoint: as.authorization_endpoint,
    token_endpoint: as.token_endpoint,
    registration_endpoint: as.registration_endpoint,
    code_challenge_methods_supported: as.code_challenge_methods_supported,
    scopes_supported: as.scopes_supported,
    authorization_response_iss_parameter_supported: as.authorization_response_iss_parameter_supported,
    client_id_metadata_document_supported: as.client_id_metadata_document_supported,
  };
}

function toolText(content: unknown): string {
  if (!Array.isArray(content)) return 'tool error';
  return content
    .map((c: { type?: string; text?: string }) => (c.type === 'text' ? c.text : `[${c.type}]`))
    .join(' ')
    .slice(0, 300);
}

/** Runs the whole sequence for one command. */
export function runFlow(opts: FlowOptions): Promise<FlowResult> {
  return new Flow(opts).run();
}
