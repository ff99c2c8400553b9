/**
 * `rotate-keys` and `clock-skew`: the layer re-signs the access tokens the AS issues with keys of its own (jose),
 * publishing them at its own JWKS URL (the metadata's `jwks_uri` is rewritten to it). The claims are the AS's,
 * except the times `clock-skew` moves; the RS still checks issuer, audience and signature as always.
 */
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

async function newKey(n: number): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = `quirk-${n}-${Date.now().toString(36)}`;
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export interface ResignOptions {
  /** Every token after the first is signed with a new key. */
  readonly rotate: boolean;
  /** Seconds the AS clock runs ahead: iat, nbf and exp move that far. */
  readonly skewS: number;
  /** A lifetime of its own: exp = iat + ttlS. */
  readonly ttlS?: number;
}

export class ResigningKeys {
  #current: Promise<SigningKey> | undefined;
  #signed = 0;
  #generation = 0;

  /** The JWKS: only the current key (a rotation drops the old one at once, which is the quirk). */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: [(await this.#key()).publicJwk] };
  }

  #key(): Promise<SigningKey> {
    this.#current ??= newKey(this.#generation++);
    return this.#current;
  }

  /**
   * The token re-signed as `opts` say (see ResignOptions). Undefined when the token is not a JWT (left as it is).
   */
  async resign(token: string, opts: ResignOptions): Promise<string | undefined> {
    let claims: JWTPayload;
    let typ: string | undefined;
    try {
      claims = decodeJwt(token);
      typ = decodeProtectedHeader(token).typ;
    } catch {
      // An opaque token: nothing to re-sign.
      return undefined;
    }
    if (opts.rotate && this.#signed > 0) this.#current = newKey(this.#generation++);
    this.#signed++;
    const key = await this.#key();
    const shift = (v: number | undefined): number | undefined => (v === undefined ? undefined : v + opts.skewS);
    const iat = shift(claims.iat);
    const exp = opts.ttlS !== undefined && iat !== undefined ? iat + opts.ttlS : shift(claims.exp);
    const moved: JWTPayload = { ...claims, iat, exp, ...(opts.skewS ? { nbf: shift(claims.nbf ?? claims.iat) } : {}) };
    return new SignJWT(moved).setProtectedHeader({ alg: 'RS256', kid: key.kid, ...(typ ? { typ } : {}) }).sign(key.privateKey);
  }
}
