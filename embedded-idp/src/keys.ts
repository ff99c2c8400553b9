import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { JWK } from 'oidc-provider';

/** RFC 7638 JWK thumbprint of an RSA public key, used as its `kid`. */
function rsaThumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** A fresh RS256 signing key (RFC 7518 §3.3: 2048-bit RSA) as a private JWK with `kid`, `alg` and `use`. */
export function generateSigningKey(): JWK {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: rsaThumbprint(jwk), alg: 'RS256', use: 'sig' } as JWK;
}

/**
 * The provider's private JWK Set: read from `file` (a JWK or `{ keys: [...] }`) when given, otherwise one RS256
 * key generated now. oidc-provider publishes the public parts at its `jwks_uri` (RFC 8414 §2).
 */
export async function loadSigningKeys(file: string | undefined): Promise<{ keys: JWK[] }> {
  if (file === undefined) return { keys: [generateSigningKey()] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new Error(`IDP_SIGNING_KEY_FILE ${file} is not a readable JSON file`, { cause });
  }
  const keys = (parsed as { keys?: unknown }).keys ?? [parsed];
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null && 'd' in k)) {
    throw new Error(`IDP_SIGNING_KEY_FILE ${file} must hold a private JWK or a JWK Set of private keys`);
  }
  return { keys: keys as JWK[] };
}
