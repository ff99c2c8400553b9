/**
 * Access-token validation (RFC 9068 §4, OAuth 2.1 §5.2, RFC 8707 audience binding) with jose.
 * Translates jose's errors once, here: token problems → 401 invalid_token, key-source outages → 503.
 */
import { BearerError } from '@mcp-lab/protocol';
import { errors, jwtVerify } from 'jose';
import type { JWTHeaderParameters, JWTPayload } from 'jose';
import type { RsConfig } from '../config.ts';
import type { KeySource } from './jwks.ts';
import { permissionsOf } from './permissions.ts';
import type { Principal } from './principal.ts';
import type { VerifiedTokenCache } from './token-cache.ts';

/** `typ` values accepted when the header carries one (RFC 9068 §2.1 allows `at+jwt`; many ASes send `JWT`). */
const ACCEPTED_TYP = new Set(['at+jwt', 'jwt']);

/** jose error codes that mean "this token is not acceptable" (the client's problem → 401). */
const TOKEN_PROBLEMS = new Set<string>([
  errors.JWTClaimValidationFailed.code,
  errors.JWTExpired.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWSInvalid.code,
  errors.JWTInvalid.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JWKInvalid.code,
]);

export type TokenVerifier = (token: string) => Promise<Principal>;

export interface VerifierOptions {
  readonly config: Pick<RsConfig, 'issuer' | 'audiences' | 'algorithms' | 'clockSkewS' | 'permissionsFrom' | 'permissionMap'>;
  readonly keys: KeySource;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now: () => number;
  /** Verified tokens (default: none cached). Keys removed from the JWKS are dropped from it. */
  readonly cache?: VerifiedTokenCache;
}

function describe(err: InstanceType<typeof errors.JOSEError>): string {
  switch (err.code) {
    case errors.JWTExpired.code:
      return 'the access token expired';
    case errors.JWTClaimValidationFailed.code: {
      const claim = (err as InstanceType<typeof errors.JWTClaimValidationFailed>).claim;
      return `the access token's "${claim}" claim is not acceptable`;
    }
    case errors.JOSEAlgNotAllowed.code:
      return 'the access token is signed with an algorithm that is not accepted';
    case errors.JWKSNoMatchingKey.code:
      return 'the access token is signed with an unknown key';
    case errors.JWSSignatureVerificationFailed.code:
      return 'the access token signature is invalid';
    default:
      return 'the access token is malformed or not acceptable';
  }
}

/** Translates a verification failure into the RS's error model (the boundary with jose). */
export function translateVerifyError(err: unknown): BearerError {
  if (err instanceof BearerError) return err;
  if (err instanceof errors.JOSEError && TOKEN_PROBLEMS.has(err.code)) {
    return new BearerError('invalid_token', describe(err), { cause: err });
  }
  // JWKS timeout, unreachable or broken JWKS endpoint: not the client's fault.
  return new BearerError('temporarily_unavailable', 'the authorization server keys are unavailable', { cause: err });
}

function claimString(payload: JWTPayload, name: string): string | undefined {
  const v = payload[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Builds the verifier: exact issuer, audience list, exp/nbf with skew, algorithm allow-list, `typ` when present
 * (RFC 9068 §4, RFC 8707). With a cache, a token verified before is answered from it while its time claims hold
 * and the JWKS is fresh (a stale JWKS is refetched by a full verification first).
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const { config, keys, now, cache } = options;
  const audience = [...config.audiences];
  const algorithms = [...config.algorithms];
  if (cache) keys.onKeysRemoved((kids) => cache.dropKeys(kids));

  async function verifyFully(token: string): Promise<Principal> {
    const generation = cache?.generation ?? 0;
    let payload: JWTPayload;
    let header: JWTHeaderParameters;
    try {
      const result = await jwtVerify(token, keys.getKey, {
        issuer: config.issuer,
        audience,
        algorithms,
        clockTolerance: config.clockSkewS,
        currentDate: new Date(now()),
        requiredClaims: ['iss', 'sub', 'aud', 'exp'],
      });
      payload = result.payload;
      header = result.protectedHeader;
    } catch (err) {
      throw translateVerifyError(err);
    }
    // jose checks `iat` only against a maximum token age; a token issued in the future is refused here.
    if (typeof payload.iat === 'number' && payload.iat > Math.floor(now() / 1000) + config.clockSkewS) {
      throw new BearerError('invalid_token', 'the access token\'s "iat" claim is in the future');
    }
    const typ = header.typ;
    if (typ !== undefined && !ACCEPTED_TYP.has(typ.toLowerCase().replace(/^application\//, ''))) {
      throw new BearerError('invalid_token', 'the token is not an access token (typ)');
    }
    const principal = principalOf(payload, config);
    cache?.set(token, { principal, kid: header.kid ?? '', nbf: payload.nbf }, generation);
    return principal;
  }

  return async function verifyToken(token) {
    if (cache && keys.fresh()) {
      const hit = cache.get(token, Math.floor(now() / 1000));
      if (hit) return hit;
    }
    return verifyFully(token);
  };
}

function principalOf(payload: JWTPayload, config: VerifierOptions['config']): Principal {
  const aud = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
  const clientId = claimString(payload, 'client_id') ?? claimString(payload, 'azp');
  const email = claimString(payload, 'email');
  return Object.freeze({
    iss: payload.iss as string,
    sub: payload.sub as string,
    aud: Object.freeze(aud),
    permissions: Object.freeze(permissionsOf(payload, config)),
    exp: payload.exp as number,
    ...(clientId !== undefined ? { clientId } : {}),
    ...(email !== undefined ? { email } : {}),
  });
}
