/**
 * Tampered copies of a real JWT access token, for the checks a resource server must pass (RFC 8725 §2.1, §3.1):
 * the same token with one signature bit flipped, and the same claims with `alg: none` and no signature. Nothing
 * here signs anything: the doctor mints no token it cannot sign.
 */

export interface JwtParts {
  readonly header: Record<string, unknown>;
  readonly payload: string;
  readonly signature: string;
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The parts of a compact JWS, or undefined when the token is not one (an opaque token). */
export function splitJwt(token: string): JwtParts | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h);
  if (!header || typeof header.alg !== 'string' || !decodeJson(p)) return undefined;
  return { header, payload: p, signature: s };
}

/** The token with the first bit of its signature flipped: same header and claims, an invalid signature. */
export function withChangedSignature(token: string): string | undefined {
  const jwt = splitJwt(token);
  if (!jwt || !jwt.signature) return undefined;
  const sig = Buffer.from(jwt.signature, 'base64url');
  sig[0] = (sig[0] ?? 0) ^ 0x01;
  const [h, p] = token.split('.') as [string, string];
  return `${h}.${p}.${sig.toString('base64url')}`;
}

/** The token's claims under `{"alg":"none"}` with an empty signature (RFC 7519 §6 unsecured JWT). */
export function withAlgNone(token: string): string | undefined {
  const jwt = splitJwt(token);
  if (!jwt) return undefined;
  const { kid: _kid, ...rest } = jwt.header;
  const header = Buffer.from(JSON.stringify({ ...rest, alg: 'none' })).toString('base64url');
  return `${header}.${jwt.payload}.`;
}
