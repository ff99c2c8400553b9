/**
 * The one place that decides what the client does after the resource server refused an MCP request (MCP
 * Authorization: Scope Challenge Handling, Step-Up Authorization Flow; RFC 6750 §3.1). Pure: the step event's
 * `next` and the orchestrator's control flow both come from the same call.
 */
import type { Challenge } from '@mcp-lab/protocol';
import type { FlowErrorCode } from '../errors.ts';

/** What the resource server answered: a 401/403 with its Bearer challenge, or anything else. */
export interface ServerRefusal {
  readonly status: number;
  readonly challenge: Challenge | undefined;
}

/** How the access token in use was obtained. */
export type TokenOrigin =
  /** No token: the probe got through unauthenticated. */
  | 'none'
  /** A stored token sent without discovery (the warm path). */
  | 'warm'
  /** A token obtained or confirmed after discovery (stored, refreshed or newly authorized). */
  | 'discovered';

export interface RecoveryState {
  readonly token: TokenOrigin;
  readonly hasRefreshToken: boolean;
  readonly refreshTried: boolean;
  readonly reauthorized: boolean;
  readonly stepUps: number;
  readonly maxStepUps: number;
}

export type GiveUpReason =
  /** Not a 401/403 (a network error, a JSON-RPC error, a 5xx): nothing authorization can fix. */
  | 'not-an-authorization-failure'
  /** A 403 that is not insufficient_scope, or a 403 without a token: a new token would not change it. */
  | 'forbidden'
  | 'step-ups-exhausted'
  | 'still-unauthorized';

export type NextAction =
  /** Discover the authorization server from the challenge (warm token refused, or a first token needed). */
  | { readonly kind: 'discovery' }
  | { readonly kind: 'refresh' }
  /** A new authorization with the previously requested scopes (and the challenge's). */
  | { readonly kind: 'authorize' }
  /** Re-authorize with the union of the requested and the challenged scopes. */
  | { readonly kind: 'step-up' }
  | { readonly kind: 'give-up'; readonly reason: GiveUpReason };

const giveUp = (reason: GiveUpReason): NextAction => ({ kind: 'give-up', reason });

/** The next action after the resource server answered `response` while the flow was in `state`. */
export function nextAction(response: ServerRefusal | undefined, state: RecoveryState): NextAction {
  if (response === undefined || (response.status !== 401 && response.status !== 403)) return giveUp('not-an-authorization-failure');
  if (state.token === 'warm') return { kind: 'discovery' };
  if (state.token === 'none') return response.status === 401 ? { kind: 'discovery' } : giveUp('forbidden');
  if (response.status === 403) {
    if (response.challenge?.params.error !== 'insufficient_scope') return giveUp('forbidden');
    return state.stepUps < state.maxStepUps ? { kind: 'step-up' } : giveUp('step-ups-exhausted');
  }
  if (state.hasRefreshToken && !state.refreshTried) return { kind: 'refresh' };
  return state.reauthorized ? giveUp('still-unauthorized') : { kind: 'authorize' };
}

/** What the step event shows as `next` (nothing for a failure authorization cannot fix). */
export function describeNext(action: NextAction): { next?: string } {
  if (action.kind !== 'give-up') return { next: action.kind };
  return action.reason === 'not-an-authorization-failure' ? {} : { next: 'give-up' };
}

/** What the flow tried when an authorization (authorize → callback → token) failed. */
export interface GrantState {
  /** The client came from a stored dynamic registration (which the AS may have forgotten). */
  readonly storedRegistration: boolean;
  readonly registeredAgain: boolean;
  /** The client added offline_access on its own (MCP Refresh Tokens: MAY) to this request. */
  readonly addedOfflineAccess: boolean;
}

export type GrantRecovery = 'register-again' | 'retry-without-offline-access' | 'give-up';

/**
 * After an authorization failed: an `invalid_client` for a stored dynamic registration means the AS forgot it
 * (an IdP with in-memory storage restarted) — register again, once; an `invalid_scope` when the client added
 * offline_access itself means the AS lists it without allowing it to this client — retry once without it.
 */
export function nextAfterGrantFailure(code: FlowErrorCode, state: GrantState): GrantRecovery {
  switch (code) {
    case 'invalid-client':
      return state.storedRegistration && !state.registeredAgain ? 'register-again' : 'give-up';
    case 'invalid-scope':
      return state.addedOfflineAccess ? 'retry-without-offline-access' : 'give-up';
    default:
      return 'give-up';
  }
}
