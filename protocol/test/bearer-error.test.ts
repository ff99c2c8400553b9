/**
 * The RFC 6750 §3 error model: each code's status, the exact challenge text for each failure, the
 * error_description character set, and the JSON body.
 */
import { describe, expect, it } from 'vitest';
import { BearerError, bearerChallenge, bearerErrorBody, parseWwwAuthenticate, sanitizeDescription, statusOf } from '../src/index.ts';
import type { BearerErrorCode } from '../src/index.ts';

const PRM = 'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp';

describe('statusOf', () => {
  it.each<[BearerErrorCode, number]>([
    ['invalid_request', 400],
    ['invalid_token', 401],
    ['insufficient_scope', 403],
    ['temporarily_unavailable', 503],
  ])('answers %s with %i', (code, status) => {
    expect(statusOf(code)).toBe(status);
  });
});

describe('BearerError', () => {
  it.each<[BearerErrorCode, number]>([
    ['invalid_request', 400],
    ['invalid_token', 401],
    ['insufficient_scope', 403],
    ['temporarily_unavailable', 503],
  ])('%s owns status %i', (code, status) => {
    const err = new BearerError(code, 'why');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('BearerError');
    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
    expect(err.message).toBe('why');
    expect(err.scope).toBeUndefined();
  });

  it('keeps the scopes and the cause', () => {
    const cause = new Error('JWKS down');
    const err = new BearerError('insufficient_scope', 'needs write', { scope: ['notes:read', 'notes:write'], cause });
    expect(err.scope).toEqual(['notes:read', 'notes:write']);
    expect(err.cause).toBe(cause);
  });

  it('has no own cause when none is given', () => {
    expect(Object.hasOwn(new BearerError('invalid_token', 'x'), 'cause')).toBe(false);
  });
});

describe('bearerChallenge: exact header text', () => {
  it.each<[string, Parameters<typeof bearerChallenge>[0], string]>([
    ['no credentials, no scope: no error', { resourceMetadata: PRM }, `Bearer resource_metadata="${PRM}"`],
    [
      'no credentials, basic scope: scope but no error',
      { resourceMetadata: PRM, scope: ['notes:read'] },
      `Bearer scope="notes:read", resource_metadata="${PRM}"`,
    ],
    ['an empty scope list is left out', { resourceMetadata: PRM, scope: [] }, `Bearer resource_metadata="${PRM}"`],
    [
      'a realm comes first',
      { resourceMetadata: PRM, realm: 'mcp-lab', scope: ['notes:read'] },
      `Bearer realm="mcp-lab", scope="notes:read", resource_metadata="${PRM}"`,
    ],
    [
      'invalid_request',
      { resourceMetadata: PRM, error: new BearerError('invalid_request', 'malformed Bearer credentials') },
      `Bearer error="invalid_request", error_description="malformed Bearer credentials", resource_metadata="${PRM}"`,
    ],
    [
      'invalid_token with a description',
      { resourceMetadata: PRM, error: new BearerError('invalid_token', 'the token has expired') },
      `Bearer error="invalid_token", error_description="the token has expired", resource_metadata="${PRM}"`,
    ],
    [
      'invalid_token keeps the scope the caller passes',
      { resourceMetadata: PRM, scope: ['notes:read'], error: new BearerError('invalid_token', 'bad signature') },
      `Bearer error="invalid_token", error_description="bad signature", scope="notes:read", resource_metadata="${PRM}"`,
    ],
    [
      'insufficient_scope names every needed scope',
      {
        resourceMetadata: PRM,
        error: new BearerError('insufficient_scope', 'this operation needs notes:read notes:write', { scope: ['notes:read', 'notes:write'] }),
      },
      `Bearer error="insufficient_scope", error_description="this operation needs notes:read notes:write", scope="notes:read notes:write", resource_metadata="${PRM}"`,
    ],
    [
      "the error's scopes win over the input's",
      { resourceMetadata: PRM, scope: ['notes:read'], error: new BearerError('insufficient_scope', 'x', { scope: ['notes:write'] }) },
      `Bearer error="insufficient_scope", error_description="x", scope="notes:write", resource_metadata="${PRM}"`,
    ],
    [
      'a description with quotes and a newline is made legal',
      { resourceMetadata: PRM, error: new BearerError('invalid_token', 'aud "x"\nnot accepted') },
      `Bearer error="invalid_token", error_description="aud 'x''not accepted", resource_metadata="${PRM}"`,
    ],
  ])('%s', (_name, input, expected) => {
    const header = bearerChallenge(input);
    expect(header).toBe(expected);
    expect(parseWwwAuthenticate(header!)).toHaveLength(1);
  });

  it('gives no challenge for a 503 outage', () => {
    expect(bearerChallenge({ resourceMetadata: PRM, scope: ['notes:read'], error: new BearerError('temporarily_unavailable', 'JWKS unreachable') })).toBeUndefined();
  });

  it('parses back to the parameters the client reads', () => {
    const header = bearerChallenge({
      resourceMetadata: PRM,
      error: new BearerError('insufficient_scope', 'needs, "write"', { scope: ['notes:read', 'notes:write'] }),
    });
    expect(parseWwwAuthenticate(header!)).toEqual([
      {
        scheme: 'Bearer',
        params: { error: 'insufficient_scope', error_description: "needs, 'write'", scope: 'notes:read notes:write', resource_metadata: PRM },
      },
    ]);
  });
});

describe('sanitizeDescription', () => {
  it.each<[string, string, string]>([
    ['plain printable ASCII unchanged', 'the token has expired (exp < now) [x]', 'the token has expired (exp < now) [x]'],
    ['every allowed punctuation unchanged', "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~"],
    ['a double quote replaced', 'say "hi"', "say 'hi'"],
    ['a backslash replaced', 'C:\\path', "C:'path"],
    ['CR and LF replaced', 'a\r\nb', "a''b"],
    ['a tab replaced', 'a\tb', "a'b"],
    ['DEL replaced', 'a\u007fb', "a'b"],
    ['non-ASCII replaced per UTF-16 unit', 'é🙂', "'''"],
    ['the empty string', '', ''],
  ])('%s', (_name, input, expected) => {
    expect(sanitizeDescription(input)).toBe(expected);
    expect(sanitizeDescription(input)).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
  });
});

describe('bearerErrorBody', () => {
  it.each<[BearerErrorCode, string]>([
    ['invalid_request', 'more than one Authorization header'],
    ['invalid_token', 'the token has expired'],
    ['insufficient_scope', 'needs notes:write'],
    ['temporarily_unavailable', 'JWKS unreachable'],
  ])('carries %s with its RFC 6749 §5.2 member names', (code, description) => {
    expect(bearerErrorBody(new BearerError(code, description))).toEqual({ error: code, error_description: description });
  });
});
