/**
 * The key source for access-token signatures: jose's remote JWKS (RFC 7517; cached, refetched on an unknown
 * `kid` at most once per cooldown and when stale, bounded by a timeout), reporting refetches that remove keys
 * so that cached verifications made with them are forgotten. Without MCP_JWKS_URL the `jwks_uri` is discovered from
 * the issuer's metadata (RFC 8414 §3, OIDC Discovery) on first use — lazily, so the RS starts even when the AS
 * is not up yet; until discovery succeeds, requests get 503.
 */
import { authorizationServerMetadataUrls, BearerError, parseAuthorizationServerMetadata } from '@mcp-lab/protocol';
import { createRemoteJWKSet, customFetch } from 'jose';
import type { FetchImplementation, JWTVerifyGetKey } from 'jose';
import type { RsConfig } from '../config.ts';

export interface JwksOptions {
  readonly config: Pick<RsConfig, 'issuer' | 'jwksUrl' | 'jwksTimeoutMs' | 'jwksCooldownMs'>;
  readonly fetch?: typeof fetch;
}

/**
 * Finds the issuer's `jwks_uri` from its metadata, trying the MCP-ordered well-known URLs.
 * The document's `issuer` must equal the configured one exactly (RFC 8414 §3.3).
 * @throws BearerError temporarily_unavailable when no document answers usefully.
 */
export async function discoverJwksUri(issuer: string, timeoutMs: number, fetchImpl: typeof fetch = fetch): Promise<string> {
  const failures: string[] = [];
  for (const url of authorizationServerMetadataUrls(issuer)) {
    try {
      const res = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
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
    }
  }
  throw new BearerError('temporarily_unavailable', `authorization server metadata unavailable (${failures.join('; ')})`);
}

/**
 * Where token signing keys come from, plus what a verified-token cache must know about them: whether the key set
 * is still fresh (else the next lookup refetches it, and cached verifications must not skip that), and which keys
 * a refetch removed or replaced (verifications made with them must be forgotten).
 */
export interface KeySource {
  /** The jose key lookup for `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey;
  /** False before the first fetch and once the key set is older than its maximum age (RFC 7517 key rollover). */
  fresh(): boolean;
  /** Registers a listener for refetches that removed or replaced keys; it gets their `kid`s (`''` = a key without one). */
  onKeysRemoved(listener: (kids: ReadonlySet<string>) => void): void;
}

/** How long a fetched JWKS is used before it is refetched on the next lookup (jose's default, 10 minutes). */
export const JWKS_MAX_AGE_MS = 600_000;

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

/** kid → the key's JSON, to notice a key that was removed or whose material changed under the same kid. */
function keyPrints(remote: RemoteJwks): Map<string, string> {
  const prints = new Map<string, string>();
  for (const jwk of remote.jwks()?.keys ?? []) prints.set(jwk.kid ?? '', JSON.stringify(jwk));
  return prints;
}

/**
 * A key source over the (configured or discovered) JWKS: fetched on first use, on an unknown `kid` (at most once
 * per `jwksCooldownMs`) and when older than JWKS_MAX_AGE_MS; discovery is retried on each call until it succeeds.
 */
export function createJwksResolver(options: JwksOptions): KeySource {
  const { config } = options;
  const baseFetch = options.fetch ?? fetch;
  let jwks: RemoteJwks | undefined;
  let pending: Promise<RemoteJwks> | undefined;
  const listeners: Array<(kids: ReadonlySet<string>) => void> = [];
  let fetches = 0;
  let seenFetches = 0;
  let prints = new Map<string, string>();

  // Counts JWKS fetches so that a lookup can tell a refetch happened and compare the key sets.
  const countingFetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    fetches++;
    return baseFetch(input, init);
  }) as unknown as FetchImplementation;

  const build = (url: string): RemoteJwks =>
    createRemoteJWKSet(new URL(url), {
      timeoutDuration: config.jwksTimeoutMs,
      cooldownDuration: config.jwksCooldownMs,
      cacheMaxAge: JWKS_MAX_AGE_MS,
      [customFetch]: countingFetch,
    });

  if (config.jwksUrl) jwks = build(config.jwksUrl);

  const ready = (): Promise<RemoteJwks> => {
    if (jwks) return Promise.resolve(jwks);
    pending ??= discoverJwksUri(config.issuer, config.jwksTimeoutMs, options.fetch).then(
      (url) => (jwks = build(url)),
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };

  // After a settled refetch: which kids vanished or changed? (A refetch still in flight is looked at by the
  // lookup that awaits it.)
  function compareKeySets(remote: RemoteJwks): void {
    if (fetches === seenFetches || remote.reloading) return;
    seenFetches = fetches;
    const next = keyPrints(remote);
    const removed = new Set<string>();
    for (const [kid, print] of prints) if (next.get(kid) !== print) removed.add(kid);
    prints = next;
    if (removed.size > 0) for (const listener of listeners) listener(removed);
  }

  return {
    async getKey(header, token) {
      const remote = await ready();
      try {
        return await remote(header, token);
      } finally {
        compareKeySets(remote);
      }
    },
    fresh: () => jwks?.fresh ?? false,
    onKeysRemoved(listener) {
      listeners.push(listener);
    },
  };
}
