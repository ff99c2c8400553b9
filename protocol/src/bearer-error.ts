/**
 * The RS-side error model of RFC 6750 §3.1 (plus the one status that is not the client's fault).
 * Each error owns its HTTP status; the challenge builder decides which parameters appear.
 */
import { serializeChallenge } from './www-authenticate.ts';

/** RFC 6750 §3.1 error codes, and `temporarily_unavailable` for an IdP/JWKS outage (a 503, not a 401). */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

/** The HTTP status each code is answered with (RFC 6750 §3.1; RFC 9110 §15.6.4 for 503). */
export function statusOf(code: BearerErrorCode): 400 | 401 | 403 | 503 {
  switch (code) {
    case 'invalid_request':
      return 400;
    case 'invalid_token':
      return 401;
    case 'insufficient_scope':
      return 403;
    case 'temporarily_unavailable':
      return 503;
  }
}

export interface BearerErrorOptions {
  /** Scopes needed for the operation (RFC 6750 §3, MCP scope challenge handling); all of them, in one challenge. */
  readonly scope?: readonly string[];
  readonly cause?: unknown;
}

/** An authentication/authorization failure at the resource server. */
export class BearerError extends Error {
  override readonly name = 'BearerError';
  readonly code: BearerErrorCode;
  readonly status: 400 | 401 | 403 | 503;
  readonly scope: readonly string[] | undefined;
  constructor(code: BearerErrorCode, description: string, options: BearerErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = statusOf(code);
    this.scope = options.scope;
  }
}

export interface ChallengeInput {
  /** URL of the Protected Resource Metadata document (RFC 9728 §5.1). */
  readonly resourceMetadata: string;
  /** Scopes to request; sent as one space-delimited `scope` parameter. */
  readonly scope?: readonly string[];
  /** Absent when the request carried no credentials at all (RFC 6750 §3.1: no error code then). */
  readonly error?: BearerError;
  readonly realm?: string;
}

/**
 * Builds the `WWW-Authenticate: Bearer …` value for a 401/403 (RFC 6750 §3, RFC 9728 §5.1).
 * A request without credentials gets no `error`; every other failure names its code and description.
 * Returns undefined for errors that carry no Bearer challenge (a 503 outage).
 */
export function bearerChallenge(input: ChallengeInput): string | undefined {
  const { error } = input;
  if (error?.code === 'temporarily_unavailable') return undefined;
  const scope = error?.scope ?? input.scope;
  const params: Record<string, string | undefined> = {
    realm: input.realm,
    error: error?.code,
    error_description: error ? sanitizeDescription(error.message) : undefined,
    scope: scope && scope.length ? scope.join(' ') : undefined,
    resource_metadata: input.resourceMetadata,
  };
  return serializeChallenge('Bearer', params);
}

/** RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
export function sanitizeDescription(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "'");
}

/** The JSON body sent with a BearerError (RFC 6749 §5.2 member names). */
export function bearerErrorBody(error: BearerError): { error: BearerErrorCode; error_description: string } {
  return { error: error.code, error_description: error.message };
}
