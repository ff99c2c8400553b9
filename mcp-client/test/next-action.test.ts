import { parseWwwAuthenticate, type Challenge } from '@mcp-lab/protocol';
import { describe, expect, it } from 'vitest';
import type { FlowErrorCode } from '../src/errors.ts';
import {
  describeNext,
  nextAction,
  nextAfterGrantFailure,
  type GrantRecovery,
  type GrantState,
  type NextAction,
  type RecoveryState,
  type ServerRefusal,
} from '../src/flow/next-action.ts';

/** A response as the MCP steps see it: the status and the parsed Bearer challenge (RFC 6750 §3). */
function response(status: number, header?: string): ServerRefusal {
  const challenge: Challenge | undefined = header === undefined ? undefined : parseWwwAuthenticate(header)[0];
  return { status, challenge };
}

const UNAUTHORIZED = response(401, 'Bearer resource_metadata="https://rs.example.com/.well-known/oauth-protected-resource/mcp"');
const INVALID_TOKEN = response(401, 'Bearer error="invalid_token", error_description="expired"');
const UNAUTHORIZED_NO_CHALLENGE = response(401);
const INSUFFICIENT_SCOPE = response(403, 'Bearer error="insufficient_scope", scope="notes:write"');
const FORBIDDEN_OTHER = response(403, 'Bearer error="invalid_token"');
const FORBIDDEN_NO_CHALLENGE = response(403);
const SERVER_ERROR = response(500);
const NOT_FOUND = response(404);

const discovered: RecoveryState = { token: 'discovered', hasRefreshToken: true, refreshTried: false, reauthorized: false, stepUps: 0, maxStepUps: 2 };
const warm: RecoveryState = { ...discovered, token: 'warm' };
const none: RecoveryState = { ...discovered, token: 'none', hasRefreshToken: false };
const noRefreshToken: RecoveryState = { ...discovered, hasRefreshToken: false };
const refreshTried: RecoveryState = { ...discovered, refreshTried: true };
const reauthorized: RecoveryState = { ...discovered, refreshTried: true, reauthorized: true };
const reauthorizedNoRefresh: RecoveryState = { ...noRefreshToken, reauthorized: true };
const oneStepUp: RecoveryState = { ...discovered, stepUps: 1 };
const stepUpsExhausted: RecoveryState = { ...discovered, stepUps: 2 };
const noStepUpsAllowed: RecoveryState = { ...discovered, maxStepUps: 0 };

const DISCOVERY: NextAction = { kind: 'discovery' };
const REFRESH: NextAction = { kind: 'refresh' };
const AUTHORIZE: NextAction = { kind: 'authorize' };
const STEP_UP: NextAction = { kind: 'step-up' };
const giveUp = (reason: Extract<NextAction, { kind: 'give-up' }>['reason']): NextAction => ({ kind: 'give-up', reason });

describe('nextAction: response × state → action', () => {
  it.each<[string, ServerRefusal | undefined, RecoveryState, NextAction]>([
    // The warm path: a stored token sent without discovery; any refusal leads to discovery first.
    ['warm token, 401', UNAUTHORIZED, warm, DISCOVERY],
    ['warm token, 401 invalid_token', INVALID_TOKEN, warm, DISCOVERY],
    ['warm token, 403 insufficient_scope', INSUFFICIENT_SCOPE, warm, DISCOVERY],
    ['warm token, 403 other', FORBIDDEN_OTHER, warm, DISCOVERY],
    ['warm token, 500', SERVER_ERROR, warm, giveUp('not-an-authorization-failure')],
    // No token yet: the probe got through, an operation needs one.
    ['no token, 401', UNAUTHORIZED, none, DISCOVERY],
    ['no token, 401 without a challenge', UNAUTHORIZED_NO_CHALLENGE, none, DISCOVERY],
    ['no token, 403 insufficient_scope', INSUFFICIENT_SCOPE, none, giveUp('forbidden')],
    ['no token, 404', NOT_FOUND, none, giveUp('not-an-authorization-failure')],
    // A discovered token refused with 401: refresh, then a new authorization, then give up.
    ['401, refresh token, not tried', INVALID_TOKEN, discovered, REFRESH],
    ['401 without a challenge, refresh token', UNAUTHORIZED_NO_CHALLENGE, discovered, REFRESH],
    ['401, no refresh token', INVALID_TOKEN, noRefreshToken, AUTHORIZE],
    ['401, refresh tried', INVALID_TOKEN, refreshTried, AUTHORIZE],
    ['401, refresh tried, reauthorized', INVALID_TOKEN, reauthorized, giveUp('still-unauthorized')],
    ['401, no refresh token, reauthorized', INVALID_TOKEN, reauthorizedNoRefresh, giveUp('still-unauthorized')],
    // A discovered token refused with 403.
    ['403 insufficient_scope, no step-up yet', INSUFFICIENT_SCOPE, discovered, STEP_UP],
    ['403 insufficient_scope, one step-up', INSUFFICIENT_SCOPE, oneStepUp, STEP_UP],
    ['403 insufficient_scope, step-ups exhausted', INSUFFICIENT_SCOPE, stepUpsExhausted, giveUp('step-ups-exhausted')],
    ['403 insufficient_scope, no step-ups allowed', INSUFFICIENT_SCOPE, noStepUpsAllowed, giveUp('step-ups-exhausted')],
    ['403 with another error', FORBIDDEN_OTHER, discovered, giveUp('forbidden')],
    ['403 without a challenge', FORBIDDEN_NO_CHALLENGE, discovered, giveUp('forbidden')],
    // Not an authorization failure at all.
    ['500', SERVER_ERROR, discovered, giveUp('not-an-authorization-failure')],
    ['no response (network error, JSON-RPC error)', undefined, discovered, giveUp('not-an-authorization-failure')],
  ])('%s', (_name, res, state, expected) => {
    expect(nextAction(res, state)).toEqual(expected);
  });
});

describe('describeNext: what the failed step event shows', () => {
  it.each<[NextAction, { next?: string }]>([
    [DISCOVERY, { next: 'discovery' }],
    [REFRESH, { next: 'refresh' }],
    [AUTHORIZE, { next: 'authorize' }],
    [STEP_UP, { next: 'step-up' }],
    [giveUp('step-ups-exhausted'), { next: 'give-up' }],
    [giveUp('still-unauthorized'), { next: 'give-up' }],
    [giveUp('forbidden'), { next: 'give-up' }],
    [giveUp('not-an-authorization-failure'), {}],
  ])('%j → %j', (action, shown) => {
    expect(describeNext(action)).toEqual(shown);
  });
});

describe('nextAfterGrantFailure: error code × state → recovery', () => {
  const plain: GrantState = { storedRegistration: false, registeredAgain: false, addedOfflineAccess: false };
  it.each<[string, FlowErrorCode, GrantState, GrantRecovery]>([
    ['invalid_client for a stored registration', 'invalid-client', { ...plain, storedRegistration: true }, 'register-again'],
    ['invalid_client for a stored registration, registered again already', 'invalid-client', { ...plain, storedRegistration: true, registeredAgain: true }, 'give-up'],
    ['invalid_client for a pre-registered or new client', 'invalid-client', plain, 'give-up'],
    ['invalid_scope after adding offline_access', 'invalid-scope', { ...plain, addedOfflineAccess: true }, 'retry-without-offline-access'],
    ['invalid_scope without offline_access added', 'invalid-scope', plain, 'give-up'],
    ['another OAuth error', 'oauth-error', { storedRegistration: true, registeredAgain: false, addedOfflineAccess: true }, 'give-up'],
    ['a failed check', 'check-failed', { storedRegistration: true, registeredAgain: false, addedOfflineAccess: true }, 'give-up'],
  ])('%s', (_name, code, state, expected) => {
    expect(nextAfterGrantFailure(code, state)).toBe(expected);
  });
});
