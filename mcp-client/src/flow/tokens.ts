/**
 * Which token the flow uses: a stored one (warm, without discovery; or after discovery), a refreshed one
 * (OAuth 2.1 §4.3), or a new authorization. `--fresh` ignores what is stored.
 */
import { canonicalResource } from '@mcp-lab/protocol';
import { FlowError } from '../errors.ts';
import type { StoredTokens } from '../store.ts';
import { describeTokens, refreshTokens } from '../steps/token.ts';
import { authorize, initialScopes } from './authorization.ts';
import type { AuthContext, FlowRun } from './types.ts';

const DEFAULT_EXPIRY_MARGIN_MS = 30_000;

function unexpired(run: FlowRun, t: StoredTokens): boolean {
  return t.expires_at === undefined || t.expires_at - (run.opts.expiryMarginMs ?? DEFAULT_EXPIRY_MARGIN_MS) > Date.now();
}

function expiryDetail(t: StoredTokens): string {
  return t.expires_at ? new Date(t.expires_at).toISOString() : 'no expiry known';
}

/** Tells the person that a stored token was used, and how to watch the whole sequence again. */
function announceStoredToken(run: FlowRun, skipped: string): void {
  const { command, serverUrl } = run.opts;
  run.opts.observer.diagnostic({
    level: 'info',
    message: `used the stored token for ${canonicalResource(serverUrl)} (${skipped}); to watch it again: mcp-lab-client ${command} ${serverUrl} --fresh`,
  });
}

/**
 * The warm path: a stored, unexpired access token issued for exactly this resource (the canonical server
 * URL, as sent in the `resource` parameter, RFC 8707) goes straight to initialize, without probe and
 * discovery. The (issuer, client_id, resource) recorded at issuance is the authority: a token is never sent
 * to another resource, and with several candidates (other authorization servers or clients) discovery
 * decides. A 401/403 from the server then leads to full discovery (see nextAction).
 */
export async function warmToken(run: FlowRun, serverUrl: string): Promise<StoredTokens | undefined> {
  const o = run.opts;
  if (o.fresh) return undefined;
  const resource = canonicalResource(serverUrl);
  const wantedClient = o.clientId ?? o.clientMetadataUrl;
  const candidates = (await o.store.getTokensForResource(resource)).filter(
    (t) => t.resource === resource && (wantedClient === undefined || t.client_id === wantedClient) && unexpired(run, t),
  );
  const stored = candidates.length === 1 ? candidates[0] : undefined;
  if (!stored) return undefined;
  const tokens = await run.step('stored-token', async (ctx) => {
    ctx.record({ name: 'stored token for this resource', ok: true, detail: resource });
    ctx.record({ name: 'issued by (recorded at issuance)', ok: true, detail: `${stored.issuer}, client ${stored.client_id}` });
    ctx.record({ name: 'not expired', ok: true, detail: expiryDetail(stored) });
    ctx.record({ name: 'discovery skipped', ok: true, detail: 'the store names the authorization server; a 401/403 from the server leads to full discovery; --fresh ignores the stored token' });
    return [stored, { ...describeTokens(stored), source: 'store', issuer: stored.issuer, client_id: stored.client_id, resource, discovery: 'skipped' }];
  });
  announceStoredToken(run, 'probe, discovery and authorization skipped');
  return tokens;
}

/**
 * A stored token if still valid, else a refresh, else a new authorization. `rejected` is a token the server
 * just refused on the warm path: when discovery leads back to it, it is returned as it is, and the MCP session
 * answers the server's refusal (refresh or authorize on 401, step-up on 403) as for any other token.
 */
export async function initialTokens(run: FlowRun, auth: AuthContext, rejected?: StoredTokens): Promise<StoredTokens> {
  const stored = run.opts.fresh ? undefined : await run.opts.store.getTokens(auth.as.issuer, auth.client.client_id, auth.resource);
  if (stored && rejected && stored.access_token === rejected.access_token) return stored;
  if (stored && unexpired(run, stored)) {
    const tokens = await run.step('stored-token', async (ctx) => {
      ctx.record({ name: 'stored token for (issuer, client_id, resource)', ok: true, detail: `${auth.as.issuer}, ${auth.client.client_id}, ${auth.resource}` });
      ctx.record({ name: 'not expired', ok: true, detail: expiryDetail(stored) });
      return [stored, describeTokens(stored)];
    });
    announceStoredToken(run, 'authorization skipped');
    return tokens;
  }
  if (stored?.refresh_token) {
    const refreshed = await refresh(run, auth, stored, 'authorize');
    if (refreshed) return refreshed;
  }
  return authorize(run, auth, initialScopes(run, auth));
}

/**
 * Refresh; returns undefined (after a failed step event naming `next`, what the caller does then) when the
 * authorization server refused.
 */
export async function refresh(run: FlowRun, auth: AuthContext, current: StoredTokens, next: string): Promise<StoredTokens | undefined> {
  const store = run.opts.store;
  try {
    return await run.step('refresh', (ctx) => store.withLock(async (): Promise<[StoredTokens, Record<string, unknown>]> => {
      ctx.record({ name: 'refresh lock held', ok: true, detail: store.refreshLock ? `${store.file}.lock` : 'OFF (test switch MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK)' });
      // Re-read under the lock: another process may have refreshed while this one waited.
      const latest = await store.getTokens(auth.as.issuer, auth.client.client_id, auth.resource);
      const newer = latest !== undefined && latest.access_token !== current.access_token;
      if (newer && unexpired(run, latest)) {
        ctx.record({ name: 'refreshed by another process', ok: true, detail: 'the store holds a newer token; no refresh request sent' });
        return [latest, { ...describeTokens(latest), source: 'store-after-lock' }];
      }
      const t = await refreshTokens(ctx, auth, newer && latest.refresh_token ? latest : current);
      await store.putTokens(t);
      return [t, { ...describeTokens(t), source: 'refresh' }];
    }), () => ({ next }));
  } catch (err) {
    if (err instanceof FlowError) return undefined;
    throw err;
  }
}
