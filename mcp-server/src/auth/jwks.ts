/**
 * The key resolver for access-token signatures: jose's remote JWKS (cached, refetched on an unknown `kid`
 * at most once per cooldown, bounded by a timeout). Without MCP_JWKS_URL the `jwks_uri` is discovered from
 * the issuer's metadata (RFC 8414 §3, OIDC Discovery) on first use — lazily, so the RS starts even when the AS
 * is not up yet; until discovery succeeds, requests get 503.
 */
import { authorizationServerMetadataUrls, BearerError, parseAuthorizationServerMetadata } from '@mcp-lab/protocol';
import { createRemoteJWKSet, customFetch } from 'jose';
import type { FetchImplementation, JWTVerifyGetKey } from 'jose';
import type { RsConfig } from '../config.ts';

export type KeyResolver = JWTVerifyGetKey;

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

/** A key resolver over the (configured or discovered) JWKS; discovery is retried on each call until it succeeds. */
export function createJwksResolver(options: JwksOptions): KeyResolver {
  const { config } = options;
  const fetchImpl = options.fetch;
  let jwks: KeyResolver | undefined;
  let pending: Promise<KeyResolver> | undefined;

  const build = (url: string): KeyResolver =>
    createRemoteJWKSet(new URL(url), {
      timeoutDuration: config.jwksTimeoutMs,
      cooldownDuration: config.jwksCooldownMs,
      ...(fetchImpl ? { [customFetch]: fetchImpl as unknown as FetchImplementation } : {}),
    });

  if (config.jwksUrl) jwks = build(config.jwksUrl);

  const ready = (): Promise<KeyResolver> => {
    if (jwks) return Promise.resolve(jwks);
    pending ??= discoverJwksUri(config.issuer, config.jwksTimeoutMs, fetchImpl).then(
      (url) => (jwks = build(url)),
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };

  return async function resolveKey(header, token) {
    const resolver = await ready();
    return resolver(header, token);
  };
}
