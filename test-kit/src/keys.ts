/**
 * Signing keys and JWT access tokens (RFC 9068 shape, `typ: at+jwt`) for tests and the bench, on jose.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface Keys {
  readonly privateKey: CryptoKey;
  /** The public key as published in a JWKS (RFC 7517), with `kid`, `alg` and `use`. */
  readonly publicJwk: JWK;
}

/** A fresh RS256 key pair under `kid`. */
export async function makeKeys(kid = 'test-key-1'): Promise<Keys> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, publicJwk };
}

export interface SignOptions {
  /** Default: the key's own `kid`. */
  readonly kid?: string;
  /** Default RS256. */
  readonly alg?: string;
  /** Default `at+jwt` (RFC 9068 §2.1). */
  readonly typ?: string;
}

/** Signs `claims` as they are (the caller sets iss, sub, aud, exp, …). */
export function signJwt(keys: Keys, claims: JWTPayload, options: SignOptions = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? keys.publicJwk.kid, typ: options.typ ?? 'at+jwt' })
    .sign(keys.privateKey);
}

/** Seconds since the epoch, for `iat` and `exp`. */
export function nowS(): number {
  return Math.floor(Date.now() / 1000);
}
