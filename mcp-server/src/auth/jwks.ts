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

/** What a verification window is measured against: the resolver's clock and its JWKS settings. */
type JwksPolicy = JwksOptions['config'];

/**
 * The resolver's state and its policy, one method per concern: fetching a key set, the single-flight refresh,
 * choosing the key set to verify with, and the unknown-`kid` path.
 */
class JwksResolver {
  private readonly config: JwksPolicy;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly log: JwksLog | undefined;
  private readonly listeners: Array<(kids: ReadonlySet<string>) => void> = [];

  private jwksUri: string | undefined;
  private keySet: KeySet | undefined;
  private inflight: Promise<void> | undefined;
  private lastFailure: { readonly atMs: number; readonly error: unknown } | undefined;
  private lastKidRefreshMs = Number.NEGATIVE_INFINITY;
  /** kid → until when it counts as missing (it was absent from a key set fetched after it was asked for). */
  private readonly missingKids = new Map<string, number>();
  private staleLogged = false;

  constructor(options: JwksOptions) {
    this.config = options.config;
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? (() => Date.now());
    this.log = options.log;
    this.jwksUri = options.config.jwksUrl;
  }

  /** False before the first fetch and once the key set is older than its maximum age. */
  fresh(): boolean {
    return this.keySet !== undefined && this.now() - this.keySet.fetchedAtMs <= this.config.jwksMaxAgeMs;
  }

  onKeysRemoved(listener: (kids: ReadonlySet<string>) => void): void {
    this.listeners.push(listener);
  }

  private async fetchKeySet(): Promise<void> {
    const signal = AbortSignal.timeout(this.config.jwksTimeoutMs);
    this.jwksUri ??= await discoverJwksUri(this.config.issuer, signal, this.fetchImpl);
    const jwksUri = this.jwksUri;
    const res = await this.fetchImpl(jwksUri, { headers: { accept: 'application/json' }, signal });
    if (!res.ok) throw new Error(`JWKS ${jwksUri}: HTTP ${res.status}`);
    const body = (await res.json()) as JSONWebKeySet;
    // Throws for a document that is not a key set: the last good one stays.
    const lookup = createLocalJWKSet(body);
    const prints = new Map<string, string>();
    for (const jwk of body.keys) prints.set(jwk.kid ?? '', JSON.stringify(jwk));
    const previous = this.keySet;
    this.keySet = { lookup, prints, fetchedAtMs: this.now() };
    for (const kid of prints.keys()) this.missingKids.delete(kid);
    if (previous) this.notifyRemoved(previous.prints, prints);
  }

  /** Tells the listeners which kids a refetch removed or whose key material changed. */
  private notifyRemoved(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): void {
    const removed = new Set<string>();
    for (const [kid, print] of before) if (after.get(kid) !== print) removed.add(kid);
    if (removed.size > 0) for (const listener of this.listeners) listener(removed);
  }

  /** Starts a refresh unless one runs or the last failed within the retry window; resolves when it settles. */
  refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.lastFailure && this.now() - this.lastFailure.atMs < this.config.jwksRetryMs) return Promise.resolve();
    this.inflight = this.fetchKeySet()
      .then(
        () => this.refreshed(),
        (error: unknown) => this.refreshFailed(error),
      )
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private refreshed(): void {
    if (this.lastFailure || this.staleLogged) this.log?.info({ jwksUri: this.jwksUri }, 'JWKS refreshed');
    this.lastFailure = undefined;
    this.staleLogged = false;
  }

  private refreshFailed(error: unknown): void {
    const { keySet } = this;
    this.lastFailure = { atMs: this.now(), error };
    const ageMs = keySet ? this.now() - keySet.fetchedAtMs : undefined;
    this.log?.warn(
      { err: error, jwksUri: this.jwksUri, keySetAgeMs: ageMs, retryInMs: this.config.jwksRetryMs },
      keySet ? 'JWKS refresh failed; verifying with the last good key set' : 'JWKS fetch failed; no key set yet',
    );
  }

  /**
   * The key set to verify with: the current one while fresh; past its max age, the result of a refresh (awaited
   * the first time: one in flight is shared; within the retry window after a failure none is started), else the
   * last good one while within the stale window (logged); undefined when there is none to use.
   */
  async keySetForLookup(): Promise<KeySet | undefined> {
    const { config } = this;
    if (this.keySet && this.now() - this.keySet.fetchedAtMs <= config.jwksMaxAgeMs) return this.keySet;
    // In an outage already noticed (the last refresh failed), retries run in the background: the requests keep
    // verifying with the last good key set instead of waiting on an IdP known to be down.
    const stale =
      this.keySet !== undefined && this.now() - this.keySet.fetchedAtMs <= config.jwksMaxAgeMs + config.jwksMaxStaleMs;
    if (stale && this.lastFailure) void this.refresh();
    else await this.refresh();
    return this.usableKeySet();
  }

  /** The current key set if within its max age or (logged once) within the stale window after it. */
  private usableKeySet(): KeySet | undefined {
    const { config, keySet } = this;
    if (!keySet) return undefined;
    const ageMs = this.now() - keySet.fetchedAtMs;
    if (ageMs <= config.jwksMaxAgeMs) return keySet;
    if (ageMs > config.jwksMaxAgeMs + config.jwksMaxStaleMs) return undefined;
    if (!this.staleLogged) {
      this.staleLogged = true;
      this.log?.warn(
        { jwksUri: this.jwksUri, keySetAgeMs: ageMs, maxStaleMs: config.jwksMaxStaleMs },
        'JWKS stale: verifying with the last good key set',
      );
    }
    return keySet;
  }

  noKeys(): BearerError {
    const stale = this.keySet !== undefined;
    return unavailable(
      stale ? 'the authorization server keys are unavailable (stale beyond the allowed window)' : 'the authorization server keys are unavailable',
      this.lastFailure?.error,
    );
  }

  private rememberMissing(kid: string): void {
    const { missingKids } = this;
    missingKids.delete(kid);
    if (missingKids.size >= MISSING_KIDS_MAX) {
      const oldest = missingKids.keys().next();
      if (!oldest.done) missingKids.delete(oldest.value);
    }
    missingKids.set(kid, this.now() + this.config.jwksRetryMs);
  }

  /** The jose key lookup: the key set's own lookup, then the unknown-`kid` path. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const set = await this.keySetForLookup();
    if (!set) throw this.noKeys();
    try {
      return await set.lookup(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
    }
    return this.lookupUnknownKid(set, header, token);
  };

  /**
   * A kid the key set does not have, perhaps one just published: one refresh at once (at most one per cooldown,
   * none while a failure is within its retry window), then a second lookup; a kid still missing is remembered.
   */
  private async lookupUnknownKid(set: KeySet, ...[header, token]: Parameters<JWTVerifyGetKey>) {
    const kid = header.kid ?? '';
    this.admitKidRefresh(kid);
    await this.refresh();
    const after = await this.keySetForLookup();
    if (!after) throw this.noKeys();
    if (after === set && this.lastFailure) {
      throw unavailable('the authorization server keys could not be refreshed for an unknown key', this.lastFailure.error);
    }
    try {
      return await after.lookup(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) this.rememberMissing(kid);
      throw err;
    }
  }

  /** Throws when an unknown kid may not trigger a refresh now (known missing, failure retry window, cooldown). */
  private admitKidRefresh(kid: string): void {
    const t = this.now();
    if ((this.missingKids.get(kid) ?? 0) > t) throw new errors.JWKSNoMatchingKey();
    if (this.inflight) return;
    if (this.lastFailure && t - this.lastFailure.atMs < this.config.jwksRetryMs) {
      throw unavailable('the authorization server keys cannot be refreshed for an unknown key right now', this.lastFailure.error);
    }
    if (t - this.lastKidRefreshMs < this.config.jwksCooldownMs) throw new errors.JWKSNoMatchingKey();
    this.lastKidRefreshMs = t;
  }
}

/**
 * A key source over the configured or discovered JWKS (see the module comment for its policy).
 * @param options the JWKS settings, and optionally the `fetch`, clock and logger to use.
 * @returns the jose key lookup plus the freshness and key-removal signals a verified-token cache needs.
 */
export function createJwksResolver(options: JwksOptions): KeySource {
  const resolver = new JwksResolver(options);
  return {
    getKey: resolver.getKey,
    fresh: () => resolver.fresh(),
    onKeysRemoved(listener) {
      resolver.onKeysRemoved(listener);
    },
  };
}
