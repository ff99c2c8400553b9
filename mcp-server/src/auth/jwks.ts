/**
 * The key source for access-token signatures (RFC 7517), built to survive an IdP outage and to resist abuse:
 * - one refresh at a time (single-flight), bounded as a whole (discovery and JWKS) by `jwksTimeoutMs`: a hanging
 *   IdP costs the requests that wait on it one timeout, once; while the outage lasts, retries (one per retry
 *   window) run in the background;
 * - a key set past `jwksMaxAgeMs` is refreshed before it verifies again; when the refresh fails, the last good set
 *   keeps verifying for at most `jwksMaxStaleMs` more (logged); only then do requests get 503;
 * - a failed refresh is not retried for `jwksRetryMs` (negative caching); a `kid` missing from a fresh key set is
 *   remembered as missing for as long;
 * - a `kid` not in the key set triggers one refresh at once, at most one per `jwksCooldownMs` counted from the last
 *   such refresh (not from the last refresh of any kind), so a key published and used at once works.
 * jose's remote JWKS set fails closed once its cache is past its age and refetches on the cooldown of any fetch,
 * so the fetching policy is written here; key selection and import stay jose's (`createLocalJWKSet`).
 * Without MCP_JWKS_URL the `jwks_uri` is discovered from the issuer's metadata (RFC 8414 §3, OIDC Discovery) on
 * first use — lazily, so the RS starts even when the AS is not up yet; until a refresh succeeds, requests get 503.
 */
import { authorizationServerMetadataUrls, BearerError, parseAuthorizationServerMetadata } from '@mcp-lab/protocol';
import { createLocalJWKSet, errors } from 'jose';
import type { JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import type { RsConfig } from '../config.ts';

/** What the resolver logs (a pino logger fits). */
export interface JwksLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface JwksOptions {
  readonly config: Pick<
    RsConfig,
    'issuer' | 'jwksUrl' | 'jwksTimeoutMs' | 'jwksCooldownMs' | 'jwksMaxAgeMs' | 'jwksMaxStaleMs' | 'jwksRetryMs'
  >;
  readonly fetch?: typeof fetch;
  /** Clock in ms (default Date.now); the key set's age and every window are measured with it. */
  readonly now?: () => number;
  readonly log?: JwksLog;
}

/**
 * Finds the issuer's `jwks_uri` from its metadata, trying the MCP-ordered well-known URLs.
 * The document's `issuer` must equal the configured one exactly (RFC 8414 §3.3).
 * @param deadline a timeout in ms for the whole discovery, or a signal that bounds it.
 * @throws BearerError temporarily_unavailable when no document answers usefully.
 */
export async function discoverJwksUri(issuer: string, deadline: number | AbortSignal, fetchImpl: typeof fetch = fetch): Promise<string> {
  const signal = typeof deadline === 'number' ? AbortSignal.timeout(deadline) : deadline;
  const failures: string[] = [];
  for (const url of authorizationServerMetadataUrls(issuer)) {
    try {
      const res = await fetchImpl(url, { headers: { accept: 'application/json' }, signal });
      if (!res.ok) {
        failures.push(`${url}: HTTP ${res.status}`);
        continue;
      }
      const doc = parseAuthorizationServerMetadata(await res.json());
      if (doc.issuer !== issuer) {
        failures.push(`${url}: issuer ${JSON.stringify(doc.issuer)} differs from ${JSON.stringify(issuer)}`);
        continue;
      }
      if (!doc.jwks_uri) {
        failures.push(`${url}: no jwks_uri`);
        continue;
      }
      return doc.jwks_uri;
    } catch (cause) {
      failures.push(`${url}: ${(cause as Error).message}`);
      // Past the deadline every further URL would fail the same way at once.
      if (signal.aborted) break;
    }
  }
  throw new BearerError('temporarily_unavailable', `authorization server metadata unavailable (${failures.join('; ')})`);
}

/**
 * Where token signing keys come from, plus what a verified-token cache must know about them: whether the key set
 * is still fresh (else a full verification must run, which refreshes it), and which keys a refresh removed or
 * replaced (verifications made with them must be forgotten).
 */
export interface KeySource {
  /** The jose key lookup for `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey;
  /** False before the first fetch and once the key set is older than its maximum age (RFC 7517 key rollover). */
  fresh(): boolean;
  /** Registers a listener for refetches that removed or replaced keys; it gets their `kid`s (`''` = a key without one). */
  onKeysRemoved(listener: (kids: ReadonlySet<string>) => void): void;
}

/** The default maximum age of a fetched JWKS (MCP_JWKS_MAX_AGE_MS; jose's default too, 10 minutes). */
export const JWKS_MAX_AGE_MS = 600_000;

/** Most `kid`s remembered as missing (each costs a few bytes; the oldest is forgotten first). */
const MISSING_KIDS_MAX = 1_000;

interface KeySet {
  readonly lookup: ReturnType<typeof createLocalJWKSet>;
  /** kid → the key's JSON, to notice a key that was removed or whose material changed under the same kid. */
  readonly prints: ReadonlyMap<string, string>;
  readonly fetchedAtMs: number;
}

function unavailable(message: string, cause?: unknown): BearerError {
  return new BearerError('temporarily_unavailable', message, cause === undefined ? undefined : { cause });
}

/** A key source over the configured or discovered JWKS (see the module comment for its policy). */
export function createJwksResolver(options: JwksOptions): KeySource {
  const { config } = options;
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? (() => Date.now());
  const log = options.log;
  const listeners: Array<(kids: ReadonlySet<string>) => void> = [];

  let jwksUri = config.jwksUrl;
  let keySet: KeySet | undefined;
  let inflight: Promise<void> | undefined;
  let lastFailure: { readonly atMs: number; readonly error: unknown } | undefined;
  let lastKidRefreshMs = Number.NEGATIVE_INFINITY;
  /** kid → until when it counts as missing (it was absent from a key set fetched after it was asked for). */
  const missingKids = new Map<string, number>();
  let staleLogged = false;

  async function fetchKeySet(): Promise<void> {
    const signal = AbortSignal.timeout(config.jwksTimeoutMs);
    jwksUri ??= await discoverJwksUri(config.issuer, signal, fetchImpl);
    const res = await fetchImpl(jwksUri, { headers: { accept: 'application/json' }, signal });
    if (!res.ok) throw new Error(`JWKS ${jwksUri}: HTTP ${res.status}`);
    const body = (await res.json()) as JSONWebKeySet;
    // Throws for a document that is not a key set: the last good one stays.
    const lookup = createLocalJWKSet(body);
    const prints = new Map<string, string>();
    for (const jwk of body.keys) prints.set(jwk.kid ?? '', JSON.stringify(jwk));
    const previous = keySet;
    keySet = { lookup, prints, fetchedAtMs: now() };
    for (const kid of prints.keys()) missingKids.delete(kid);
    if (previous) {
      const removed = new Set<string>();
      for (const [kid, print] of previous.prints) if (prints.get(kid) !== print) removed.add(kid);
      if (removed.size > 0) for (const listener of listeners) listener(removed);
    }
  }

  /** Starts a refresh unless one runs or the last failed within the retry window; resolves when it settles. */
  function refresh(): Promise<void> {
    if (inflight) return inflight;
    if (lastFailure && now() - lastFailure.atMs < config.jwksRetryMs) return Promise.resolve();
    inflight = fetchKeySet().then(
      () => {
        if (lastFailure || staleLogged) log?.info({ jwksUri }, 'JWKS refreshed');
        lastFailure = undefined;
        staleLogged = false;
      },
      (error: unknown) => {
        lastFailure = { atMs: now(), error };
        const ageMs = keySet ? now() - keySet.fetchedAtMs : undefined;
        log?.warn(
          { err: error, jwksUri, keySetAgeMs: ageMs, retryInMs: config.jwksRetryMs },
          keySet ? 'JWKS refresh failed; verifying with the last good key set' : 'JWKS fetch failed; no key set yet',
        );
      },
    ).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  /**
   * The key set to verify with: the current one while fresh; past its max age, the result of a refresh (awaited
   * the first time: one in flight is shared; within the retry window after a failure none is started), else the
   * last good one while within the stale window (logged); undefined when there is none to use.
   */
  async function keySetForLookup(): Promise<KeySet | undefined> {
    if (keySet && now() - keySet.fetchedAtMs <= config.jwksMaxAgeMs) return keySet;
    // In an outage already noticed (the last refresh failed), retries run in the background: the requests keep
    // verifying with the last good key set instead of waiting on an IdP known to be down.
    const stale = keySet !== undefined && now() - keySet.fetchedAtMs <= config.jwksMaxAgeMs + config.jwksMaxStaleMs;
    if (stale && lastFailure) void refresh();
    else await refresh();
    if (!keySet) return undefined;
    const ageMs = now() - keySet.fetchedAtMs;
    if (ageMs <= config.jwksMaxAgeMs) return keySet;
    if (ageMs > config.jwksMaxAgeMs + config.jwksMaxStaleMs) return undefined;
    if (!staleLogged) {
      staleLogged = true;
      log?.warn({ jwksUri, keySetAgeMs: ageMs, maxStaleMs: config.jwksMaxStaleMs }, 'JWKS stale: verifying with the last good key set');
    }
    return keySet;
  }

  function noKeys(): BearerError {
    const stale = keySet !== undefined;
    return unavailable(
      stale ? 'the authorization server keys are unavailable (stale beyond the allowed window)' : 'the authorization server keys are unavailable',
      lastFailure?.error,
    );
  }

  function rememberMissing(kid: string): void {
    missingKids.delete(kid);
    if (missingKids.size >= MISSING_KIDS_MAX) {
      const oldest = missingKids.keys().next();
      if (!oldest.done) missingKids.delete(oldest.value);
    }
    missingKids.set(kid, now() + config.jwksRetryMs);
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const set = await keySetForLookup();
    if (!set) throw noKeys();
    try {
      return await set.lookup(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
    }
    // A kid this key set does not have: perhaps one just published.
    const kid = header.kid ?? '';
    const t = now();
    if ((missingKids.get(kid) ?? 0) > t) throw new errors.JWKSNoMatchingKey();
    if (!inflight) {
      if (lastFailure && t - lastFailure.atMs < config.jwksRetryMs) {
        throw unavailable('the authorization server keys cannot be refreshed for an unknown key right now', lastFailure.error);
      }
      if (t - lastKidRefreshMs < config.jwksCooldownMs) throw new errors.JWKSNoMatchingKey();
      lastKidRefreshMs = t;
    }
    await refresh();
    const after = await keySetForLookup();
    if (!after) throw noKeys();
    if (after === set && lastFailure) {
      throw unavailable('the authorization server keys could not be refreshed for an unknown key', lastFailure.error);
    }
    try {
      return await after.lookup(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) rememberMissing(kid);
      throw err;
    }
  };

  return {
    getKey,
    fresh: () => keySet !== undefined && now() - keySet.fetchedAtMs <= config.jwksMaxAgeMs,
    onKeysRemoved(listener) {
      listeners.push(listener);
    },
  };
}
