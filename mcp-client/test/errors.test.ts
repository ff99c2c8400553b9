import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { FlowError, refuse, type FlowErrorCode } from '../src/errors.ts';

const AS: oauth.AuthorizationServer = { issuer: 'https://as.example.com', token_endpoint: 'https://as.example.com/token' };
const CLIENT: oauth.Client = { client_id: 'c' };

/** The error oauth4webapi throws for a token endpoint's OAuth error response (RFC 6749 §5.2). */
async function tokenEndpointError(error: string): Promise<unknown> {
  const response = new Response(JSON.stringify({ error }), { status: 400, headers: { 'content-type': 'application/json' } });
  return oauth.processRefreshTokenResponse(AS, CLIENT, response).then(() => undefined, (e: unknown) => e);
}

/** The error oauth4webapi throws for an authorization error response (RFC 6749 §4.1.2.1). */
function authorizationResponseError(error: string): unknown {
  try {
    oauth.validateAuthResponse(AS, CLIENT, new URL(`http://127.0.0.1/callback?error=${error}&state=s`), 's');
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('FlowError.code', () => {
  it.each<[string, () => Promise<unknown> | unknown, FlowErrorCode]>([
    ['token endpoint invalid_client', () => tokenEndpointError('invalid_client'), 'invalid-client'],
    ['token endpoint invalid_scope', () => tokenEndpointError('invalid_scope'), 'invalid-scope'],
    ['token endpoint invalid_grant', () => tokenEndpointError('invalid_grant'), 'oauth-error'],
    ['authorization response invalid_scope', () => authorizationResponseError('invalid_scope'), 'invalid-scope'],
    ['authorization response access_denied', () => authorizationResponseError('access_denied'), 'oauth-error'],
    ['a network error', () => new TypeError('fetch failed'), 'step-failed'],
    ['a thrown string', () => 'boom', 'step-failed'],
  ])('is derived from the cause: %s', async (_name, makeCause, code) => {
    const cause = await makeCause();
    expect(new FlowError('failed', { cause }).code).toBe(code);
  });

  it('is inherited from a FlowError cause, and an explicit code wins', () => {
    const inner = new FlowError('x', { code: 'still-unauthorized' });
    expect(new FlowError('wrapped', { cause: inner }).code).toBe('still-unauthorized');
    expect(new FlowError('x', { code: 'invalid-options', cause: inner }).code).toBe('invalid-options');
  });

  it('is step-failed without a cause, and check-failed for a refused check', () => {
    expect(new FlowError('x').code).toBe('step-failed');
    expect(refuse('state matches', 'differs').code).toBe('check-failed');
  });

  it('never reads the message: a message naming invalid_client is not an invalid-client', () => {
    expect(new FlowError('token request failed: invalid_client (HTTP 401)').code).toBe('step-failed');
  });
});
