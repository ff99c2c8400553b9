/**
 * The one error the flow throws: it names the step that failed, says why, what the user can do, and carries a
 * code the orchestrator switches on (never the message).
 */
import type { Check, StepName } from './events.ts';

/**
 * Why a flow failed, as far as the orchestrator acts on it:
 * - `invalid-options`: the flow options cannot work (not a URL, `--cookie` without SSE);
 * - `check-failed`: a protocol check refused to go on;
 * - `invalid-client`: the authorization server does not know the client (RFC 6749 §5.2 `invalid_client`);
 * - `invalid-scope`: it refused the requested scope (RFC 6749 §4.1.2.1 / §5.2 `invalid_scope`);
 * - `oauth-error`: any other OAuth error response;
 * - `auth-failure`: the resource server answered an MCP request with 401/403 (see AuthFailureError);
 * - `step-up-exhausted`: still `insufficient_scope` after the allowed step-up authorizations;
 * - `still-unauthorized`: still 401 after a new authorization;
 * - `step-failed`: anything else (network, malformed responses, lower-layer errors).
 */
export type FlowErrorCode =
  | 'invalid-options'
  | 'check-failed'
  | 'invalid-client'
  | 'invalid-scope'
  | 'oauth-error'
  | 'auth-failure'
  | 'step-up-exhausted'
  | 'still-unauthorized'
  | 'step-failed';

export interface FlowErrorOptions {
  readonly code?: FlowErrorCode;
  readonly hint?: string;
  readonly check?: Check;
  readonly step?: StepName;
  readonly cause?: unknown;
}

export class FlowError extends Error {
  override readonly name = 'FlowError';
  /** Set explicitly, else derived from an OAuth error response in `cause`, else `step-failed`. */
  readonly code: FlowErrorCode;
  /** The step in which the failure happened (set by the orchestrator when a step throws). */
  step: StepName | undefined;
  /** What the user can do about it. */
  readonly hint: string | undefined;
  /** The check that failed, when a protocol check refused to go on. */
  readonly check: Check | undefined;
  constructor(message: string, options: FlowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? codeOfCause(options.cause);
    this.hint = options.hint;
    this.check = options.check;
    this.step = options.step;
  }
}

/**
 * The code of a lower-layer error: an OAuth error response (oauth4webapi's ResponseBodyError for the token and
 * registration endpoints, AuthorizationResponseError for the authorization response) carries the RFC 6749
 * `error` field; read it, not the message.
 */
function codeOfCause(cause: unknown): FlowErrorCode {
  if (cause instanceof FlowError) return cause.code;
  if (!(cause instanceof Error) || !('error' in cause) || typeof cause.error !== 'string') return 'step-failed';
  switch (cause.error) {
    case 'invalid_client':
      return 'invalid-client';
    case 'invalid_scope':
      return 'invalid-scope';
    default:
      return 'oauth-error';
  }
}

/** A protocol check failed: the flow refuses to continue. */
export function refuse(name: string, detail: string, hint?: string): FlowError {
  return new FlowError(`${name}: ${detail}`, { code: 'check-failed', check: { name, ok: false, detail }, ...(hint ? { hint } : {}) });
}

/** The message of any thrown value, for wrapping lower-layer errors. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
