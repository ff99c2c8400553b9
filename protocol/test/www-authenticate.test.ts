/**
 * The RFC 9110 §11.6.1 `WWW-Authenticate` grammar: what parses to which challenges, what is refused, and that
 * serializeChallenge's output always parses back to what it was given.
 */
import { describe, expect, it } from 'vitest';
import { findChallenge, parseWwwAuthenticate, serializeChallenge, WwwAuthenticateSyntaxError } from '../src/index.ts';
import type { Challenge } from '../src/index.ts';

/** Field values that parse, each named, with the challenges they parse to. */
const VALID_FIELD_VALUES: Array<[name: string, value: string, expected: Challenge[]]> = [
  ['a scheme without parameters', 'Bearer', [{ scheme: 'Bearer', params: {} }]],
  ['a scheme followed only by whitespace', 'Bearer  ', [{ scheme: 'Bearer', params: {} }]],
  ['one challenge, one quoted parameter', 'Bearer realm="example"', [{ scheme: 'Bearer', params: { realm: 'example' } }]],
  ['a token (unquoted) value', 'Bearer realm=example', [{ scheme: 'Bearer', params: { realm: 'example' } }]],
  ['whitespace around "=" (BWS)', 'Bearer realm = "x" ,\terror\t=\t"y"', [{ scheme: 'Bearer', params: { realm: 'x', error: 'y' } }]],
  [
    'two challenges with parameters',
    'Bearer realm="x", Basic realm="y"',
    [
      { scheme: 'Bearer', params: { realm: 'x' } },
      { scheme: 'Basic', params: { realm: 'y' } },
    ],
  ],
  [
    'the RFC 9110 §11.6.1 example',
    'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
    [
      { scheme: 'Newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'Basic', params: { realm: 'simple' } },
    ],
  ],
  [
    'commas inside a quoted-string do not split',
    'Bearer error_description="a, b, c=d", scope="x y"',
    [{ scheme: 'Bearer', params: { error_description: 'a, b, c=d', scope: 'x y' } }],
  ],
  ['a quoted-pair escaping a backslash', 'Bearer a="back\\\\slash"', [{ scheme: 'Bearer', params: { a: 'back\\slash' } }]],
  ['a quoted-pair escaping an ordinary character', 'Bearer a="\\x\\y"', [{ scheme: 'Bearer', params: { a: 'xy' } }]],
  ['an empty quoted-string', 'Bearer realm=""', [{ scheme: 'Bearer', params: { realm: '' } }]],
  [
    'parameter names are lower-cased, values and the scheme kept',
    'BEARER Realm="MixedCase", ERROR="invalid_token"',
    [{ scheme: 'BEARER', params: { realm: 'MixedCase', error: 'invalid_token' } }],
  ],
  ['token68 without padding', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l', [{ scheme: 'Basic', params: {}, token68: 'YWxhZGRpbjpvcGVuc2VzYW1l' }]],
  ['token68 with one "=" of padding', 'Negotiate abc=', [{ scheme: 'Negotiate', params: {}, token68: 'abc=' }]],
  ['token68 with "==" padding', 'Negotiate a+b/c==', [{ scheme: 'Negotiate', params: {}, token68: 'a+b/c==' }]],
  ['token68 that looks like a name with "=" but has no value', 'Bearer realm=', [{ scheme: 'Bearer', params: {}, token68: 'realm=' }]],
  [
    'token68 followed by another challenge',
    'Negotiate abc==, Bearer realm="x"',
    [
      { scheme: 'Negotiate', params: {}, token68: 'abc==' },
      { scheme: 'Bearer', params: { realm: 'x' } },
    ],
  ],
  [
    'padded token68 then a challenge',
    'Negotiate abc=, Basic realm="x"',
    [
      { scheme: 'Negotiate', params: {}, token68: 'abc=' },
      { scheme: 'Basic', params: { realm: 'x' } },
    ],
  ],
  [
    'bare schemes separated by a comma',
    'Bearer, Basic',
    [
      { scheme: 'Bearer', params: {} },
      { scheme: 'Basic', params: {} },
    ],
  ],
  [
    'a bare scheme after a challenge with parameters',
    'Basic realm="x", Bearer',
    [
      { scheme: 'Basic', params: { realm: 'x' } },
      { scheme: 'Bearer', params: {} },
    ],
  ],
  [
    'empty list elements before, between and after challenges',
    ', , Bearer realm="x", , ,Basic realm="y" ,,',
    [
      { scheme: 'Bearer', params: { realm: 'x' } },
      { scheme: 'Basic', params: { realm: 'y' } },
    ],
  ],
  [
    'empty list elements between and after parameters',
    'Bearer realm="x", , error="y",',
    [{ scheme: 'Bearer', params: { realm: 'x', error: 'y' } }],
  ],
  [
    'an empty element opening the parameter list (#auth-param after 1*SP)',
    'Bearer , realm="x"',
    [{ scheme: 'Bearer', params: { realm: 'x' } }],
  ],
  [
    'two field lines joined with ", "',
    'Bearer resource_metadata="https://rs.example/.well-known/oauth-protected-resource/mcp", DPoP algs="ES256"',
    [
      { scheme: 'Bearer', params: { resource_metadata: 'https://rs.example/.well-known/oauth-protected-resource/mcp' } },
      { scheme: 'DPoP', params: { algs: 'ES256' } },
    ],
  ],
  [
    "the resource server's insufficient_scope challenge",
    'Bearer error="insufficient_scope", error_description="this operation needs notes:write", scope="notes:write", resource_metadata="http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp"',
    [
      {
        scheme: 'Bearer',
        params: {
          error: 'insufficient_scope',
          error_description: 'this operation needs notes:write',
          scope: 'notes:write',
          resource_metadata: 'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp',
        },
      },
    ],
  ],
  ['the empty field value (#challenge allows none)', '', []],
  ['only separators', ' , ,', []],
];

describe('parseWwwAuthenticate: valid field values', () => {
  it.each<[string, string, Challenge[]]>(VALID_FIELD_VALUES)('parses %s', (_name, value, expected) => {
    expect(parseWwwAuthenticate(value)).toEqual(expected);
  });
});

describe('parseWwwAuthenticate: malformed field values', () => {
  it.each<[string, string, number]>([
    ['an unterminated quoted-string', 'Bearer realm="x', 15],
    ['a quoted-pair cut off by the end', 'Bearer realm="x\\', 16],
    ['a parameter without a value at the end', 'Bearer realm="x", error=', 24],
    ['a parameter without a value before the next one', 'Bearer realm="x", error=, scope="a"', 24],
    ['a parameter whose value is another "="', 'Bearer realm="x", error==', 24],
    ['a repeated parameter', 'Bearer realm="a", realm="b"', 27],
    ['a parameter repeated in another case', 'Bearer realm="a", REALM="b"', 27],
    ['a quoted-string where the scheme belongs', '"garbage"', 0],
    ['a parameter without a name', 'Bearer realm="x", ="y"', 18],
    ['a character that is neither token68 nor a parameter', 'Bearer @@@', 7],
    ['a semicolon instead of a comma', 'Bearer realm="x"; error="y"', 16],
    ['parameters not separated by a comma', 'Bearer realm="x" error="y"', 17],
    ['a second challenge not separated by a comma', 'Bearer realm="x" Basic', 17],
    ['trailing garbage after a parameter', 'Bearer realm="x" junk', 17],
    ['garbage after a token68', 'Negotiate abc def', 14],
    ['a character glued to the scheme', 'Bearer;', 6],
    ['a parameter glued to the scheme by a comma', 'Bearer,realm="x"', 12],
    ['text after a closing quote', 'Bearer realm="x"y', 16],
  ])('refuses %s', (_name, value, position) => {
    let caught: unknown;
    try {
      parseWwwAuthenticate(value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WwwAuthenticateSyntaxError);
    expect((caught as WwwAuthenticateSyntaxError).name).toBe('WwwAuthenticateSyntaxError');
    expect((caught as WwwAuthenticateSyntaxError).position).toBe(position);
    expect((caught as Error).message).toContain(`at position ${position}`);
  });

  it('names the offending parameter when a value is missing', () => {
    expect(() => parseWwwAuthenticate('Bearer realm="x", error=')).toThrow('expected a value for parameter "error"');
  });

  it('names the repeated parameter', () => {
    expect(() => parseWwwAuthenticate('Bearer realm="a", Realm="b"')).toThrow('parameter "realm" repeated');
  });
});

describe('findChallenge', () => {
  const list = parseWwwAuthenticate('Basic realm="a", bearer realm="b", Bearer realm="c"');

  it.each([
    ['Bearer', 'b'],
    ['BEARER', 'b'],
    ['basic', 'a'],
  ])('finds the first %s challenge case-insensitively', (scheme, realm) => {
    expect(findChallenge(list, scheme)?.params.realm).toBe(realm);
  });

  it('returns undefined when no challenge has the scheme', () => {
    expect(findChallenge(list, 'DPoP')).toBeUndefined();
  });
});

describe('serializeChallenge', () => {
  it.each<[string, string, Record<string, string | undefined>, string]>([
    ['a scheme alone', 'Bearer', {}, 'Bearer'],
    ['only undefined parameters', 'Bearer', { error: undefined }, 'Bearer'],
    ['parameters in the given order, always quoted', 'Bearer', { realm: 'x', scope: 'a b' }, 'Bearer realm="x", scope="a b"'],
    ['undefined parameters skipped', 'Bearer', { realm: undefined, error: 'invalid_token' }, 'Bearer error="invalid_token"'],
    ['quotes and backslashes escaped', 'Newauth', { title: 'Login to "apps" \\ now' }, 'Newauth title="Login to \\"apps\\" \\\\ now"'],
    ['an empty value', 'Bearer', { realm: '' }, 'Bearer realm=""'],
  ])('serializes %s', (_name, scheme, params, expected) => {
    expect(serializeChallenge(scheme, params)).toBe(expected);
  });

  it.each<[string, Record<string, string>]>([
    ['plain values', { realm: 'example', scope: 'notes:read notes:write' }],
    ['commas and "=" inside values', { error_description: 'a, b=c, d', realm: 'x' }],
    ['quotes and backslashes', { title: 'say "hi" \\ bye', other: '\\"' }],
    ['an empty value', { realm: '' }],
    ['a URL', { resource_metadata: 'https://rs.example/.well-known/oauth-protected-resource/mcp?x=1' }],
    ['non-ASCII text', { title: 'Grüße 🙂' }],
  ])('round-trips %s through the parser', (_name, params) => {
    const header = serializeChallenge('Bearer', params);
    expect(parseWwwAuthenticate(header)).toEqual([{ scheme: 'Bearer', params }]);
  });

  it('round-trips two joined challenges', () => {
    const header = `${serializeChallenge('Bearer', { realm: 'a, b', error: 'x' })}, ${serializeChallenge('Basic', { realm: 'y' })}`;
    expect(parseWwwAuthenticate(header)).toEqual([
      { scheme: 'Bearer', params: { realm: 'a, b', error: 'x' } },
      { scheme: 'Basic', params: { realm: 'y' } },
    ]);
  });

  it.each<[string, string, Record<string, string>, string]>([
    ['a scheme with a space', 'Bad scheme', {}, 'invalid auth-scheme'],
    ['an empty scheme', '', {}, 'invalid auth-scheme'],
    ['a parameter name with "="', 'Bearer', { 'a=b': 'x' }, 'invalid auth-param name'],
    ['a parameter name with a space', 'Bearer', { 'a b': 'x' }, 'invalid auth-param name'],
    ['a CR/LF in a value (header injection)', 'Bearer', { realm: 'x\r\nSet-Cookie: a=b' }, 'control character'],
    ['a NUL in a value', 'Bearer', { realm: 'x\u0000' }, 'control character'],
    ['a DEL in a value', 'Bearer', { realm: 'x\u007f' }, 'control character'],
  ])('refuses %s with a TypeError', (_name, scheme, params, message) => {
    expect(() => serializeChallenge(scheme, params)).toThrow(TypeError);
    expect(() => serializeChallenge(scheme, params)).toThrow(message);
  });
});
