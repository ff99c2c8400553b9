import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigReader, deepFreeze, parseBoolean, parseInteger, parseOneOf, parseUrl, splitList, type UrlRules } from '../src/config.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseInteger', () => {
  it.each([
    ['0', 0],
    ['65535', 65535],
    ['30000', 30000],
  ])('accepts %s', (text, value) => {
    expect(parseInteger(text, { min: 0, max: 65535 })).toEqual({ ok: true, value });
  });
  it.each(['-1', '65536', '1.5', '1e3', ' 1', '0x10', '', 'eighty', '9007199254740993'])('refuses %j', (text) => {
    const r = parseInteger(text, { min: 0, max: 65535 });
    expect(r.ok).toBe(false);
  });
  it('says the range and what it got', () => {
    expect(parseInteger('70000', { min: 1, max: 65535 })).toEqual({ ok: false, problem: 'must be an integer from 1 to 65535, got "70000"' });
  });
});

describe('parseBoolean, parseOneOf', () => {
  it.each([['true', true], ['FALSE', false], ['True', true]])('boolean %s', (text, value) => {
    expect(parseBoolean(text)).toEqual({ ok: true, value });
  });
  it.each(['yes', '1', 'maybe'])('refuses boolean %s', (text) => {
    expect(parseBoolean(text)).toEqual({ ok: false, problem: `must be true or false, got "${text}"` });
  });
  it('checks an enum against its literal list, case-sensitively', () => {
    expect(parseOneOf('warn', LEVELS)).toEqual({ ok: true, value: 'warn' });
    expect(parseOneOf('WARN', LEVELS)).toEqual({ ok: false, problem: 'must be one of fatal, error, warn, info, debug, trace, silent, got "WARN"' });
  });
});

describe('parseUrl', () => {
  it.each<[string, UrlRules, string]>([
    ['http://127.0.0.1:5556/dex', { shape: 'issuer' }, 'http://127.0.0.1:5556/dex'],
    ['https://idp.example.com', { shape: 'issuer' }, 'https://idp.example.com/'],
    ['http://127.0.0.1:3000', { shape: 'origin' }, 'http://127.0.0.1:3000/'],
    ['https://example.com', { shape: 'origin' }, 'https://example.com/'],
    ['http://127.0.0.1:3000/mcp?x=1', { shape: 'resource' }, 'http://127.0.0.1:3000/mcp?x=1'],
    ['http://127.0.0.1:5558', { protocols: ['http:'] }, 'http://127.0.0.1:5558/'],
  ])('accepts %s as %j', (text, rules, href) => {
    const r = parseUrl(text, rules);
    expect(r.ok && r.value.href).toBe(href);
  });

  it.each<[string, string, UrlRules, RegExp]>([
    ['not absolute', '/dex', {}, /must be an absolute URL/],
    ['not a URL', 'not a url', {}, /must be an absolute URL/],
    ['another scheme', 'ftp://example.com', {}, /must be a http or https URL/],
    ['https where only http is allowed', 'https://127.0.0.1:5558', { protocols: ['http:'] }, /must be a http URL/],
    ['an issuer with a query', 'http://127.0.0.1:5556/dex?x=1', { shape: 'issuer' }, /no query or fragment \(RFC 8414 §2\)/],
    ['an issuer with a fragment', 'http://127.0.0.1:5556/dex#f', { shape: 'issuer' }, /no query or fragment/],
    ['an issuer with an empty query', 'http://127.0.0.1:5556/dex?', { shape: 'issuer' }, /no query or fragment/],
    ['an issuer with a trailing slash', 'http://127.0.0.1:5556/dex/', { shape: 'issuer' }, /must have no trailing slash/],
    ['an origin with a path', 'http://127.0.0.1:3000/app', { shape: 'origin' }, /bare origin/],
    ['an origin with userinfo', 'http://u:p@127.0.0.1:3000', { shape: 'origin' }, /bare origin/],
    ['an origin with a query', 'http://127.0.0.1:3000?x', { shape: 'origin' }, /bare origin/],
    ['an origin with a trailing slash', 'http://127.0.0.1:3000/', { shape: 'origin' }, /bare origin/],
    ['an origin in upper case', 'http://LOCALHOST:3000', { shape: 'origin' }, /bare origin/],
    ['an origin with the default port spelled out', 'https://example.com:443', { shape: 'origin' }, /bare origin/],
    ['a resource with a fragment', 'http://127.0.0.1:3000/mcp#x', { shape: 'resource' }, /no fragment \(RFC 8707 §2\)/],
  ])('refuses %s', (_name, text, rules, message) => {
    const r = parseUrl(text, rules);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problem).toMatch(message);
  });
});

describe('splitList', () => {
  it('splits on commas, trims, drops empty items', () => {
    expect(splitList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
  });
  it('keeps spaces inside comma items; comma-or-space splits on both', () => {
    expect(splitList('notes:read notes:write,x')).toEqual(['notes:read notes:write', 'x']);
    expect(splitList('notes:read notes:write,x', 'comma-or-space')).toEqual(['notes:read', 'notes:write', 'x']);
  });
  it('semicolon keeps commas inside entries (permission maps)', () => {
    expect(splitList('notes:read=a,b; notes:write=c;', 'semicolon')).toEqual(['notes:read=a,b', 'notes:write=c']);
  });
});

/** A small service config read with every kind of getter. */
function read(env: Record<string, string>) {
  const r = new ConfigReader('test service', env);
  return {
    r,
    config: () =>
      r.finish({
        host: r.string('T_HOST', '127.0.0.1'),
        port: r.port('T_PORT', 3000),
        timeoutMs: r.ms('T_TIMEOUT_MS', 5000, { min: 1, max: 120_000 }),
        enabled: r.bool('T_ENABLED', true),
        level: r.oneOf('T_LOG_LEVEL', LEVELS, 'info'),
        issuer: r.url('T_ISSUER', 'http://127.0.0.1:4000', { shape: 'issuer' }),
        origins: r.urlList('T_ORIGINS', ['http://127.0.0.1:3000'], { shape: 'origin' }).map((u) => u.origin),
        scopes: r.list('T_SCOPES', { default: ['notes:read'], separator: 'comma-or-space' }),
        context: r.jsonObject('T_CONTEXT'),
      }),
  };
}

describe('ConfigReader: values and defaults', () => {
  it('uses the defaults for unset and empty variables, and returns a deeply frozen object', () => {
    const c = read({ T_HOST: '', T_PORT: '  ' }).config();
    expect(c).toEqual({
      host: '127.0.0.1',
      port: 3000,
      timeoutMs: 5000,
      enabled: true,
      level: 'info',
      issuer: new URL('http://127.0.0.1:4000'),
      origins: ['http://127.0.0.1:3000'],
      scopes: ['notes:read'],
      context: undefined,
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.origins)).toBe(true);
    expect(Object.isFrozen(c.scopes)).toBe(true);
  });

  it('reads every kind of value', () => {
    const c = read({
      T_HOST: '0.0.0.0',
      T_PORT: '0',
      T_TIMEOUT_MS: '250',
      T_ENABLED: 'false',
      T_LOG_LEVEL: 'debug',
      T_ISSUER: 'https://idp.example.com/realms/lab',
      T_ORIGINS: 'http://a.test, http://b.test:8080',
      T_SCOPES: 'a b,c',
      T_CONTEXT: '{"client_id":"x"}',
    }).config();
    expect(c).toMatchObject({ host: '0.0.0.0', port: 0, timeoutMs: 250, enabled: false, level: 'debug', scopes: ['a', 'b', 'c'], context: { client_id: 'x' } });
    expect(c.issuer?.href).toBe('https://idp.example.com/realms/lab');
    expect(c.origins).toEqual(['http://a.test', 'http://b.test:8080']);
  });

});

describe('ConfigReader: problems', () => {
  it.each<[string, Record<string, string>, RegExp]>([
    ['a port out of range', { T_PORT: '65536' }, /^T_PORT: must be an integer from 0 to 65535, got "65536"$/],
    ['a duration below its minimum', { T_TIMEOUT_MS: '0' }, /^T_TIMEOUT_MS: must be an integer from 1 to 120000/],
    ['a duration with a unit', { T_TIMEOUT_MS: '5s' }, /^T_TIMEOUT_MS: must be an integer/],
    ['a boolean that is not one', { T_ENABLED: 'yes' }, /^T_ENABLED: must be true or false/],
    ['an enum value off the list', { T_LOG_LEVEL: 'loud' }, /^T_LOG_LEVEL: must be one of fatal, error/],
    ['an issuer with a query', { T_ISSUER: 'http://x.test/?a' }, /^T_ISSUER: must have no query or fragment/],
    ['a list entry that is not an origin', { T_ORIGINS: 'http://a.test,http://b.test/app' }, /^T_ORIGINS: entry must be a bare origin/],
    ['a list with no items', { T_SCOPES: ' , ' }, /^T_SCOPES: must list at least one item$/],
    ['JSON that is not JSON', { T_CONTEXT: '{nope' }, /^T_CONTEXT: is not JSON/],
    ['JSON that is not an object', { T_CONTEXT: '[1]' }, /^T_CONTEXT: must be a JSON object$/],
  ])('names the variable: %s', (_name, env, message) => {
    const problems = problemsOf(read(env).config);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('collects every problem into one error', () => {
    let caught: unknown;
    try {
      read({ T_PORT: 'x', T_LOG_LEVEL: 'loud', T_ISSUER: 'nope' }).config();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const e = caught as ConfigError;
    expect(e.problems.map((p) => p.split(':')[0])).toEqual(['T_PORT', 'T_LOG_LEVEL', 'T_ISSUER']);
    expect(e.subject).toBe('test service');
    expect(e.message).toBe(`invalid test service configuration:\n  - ${e.problems.join('\n  - ')}`);
    expect(Object.isFrozen(e.problems)).toBe(true);
  });

  it('required, check and accept record problems under the name given', () => {
    const r = new ConfigReader('x', {});
    expect(r.required('T_ISSUER', 'the issuer')).toBeUndefined();
    r.check('--scenario', false, 'must be one of a, b');
    expect(r.accept('listen', parseUrl('nope'))).toBeUndefined();
    expect(r.problems).toEqual(['T_ISSUER: is required (the issuer)', '--scenario: must be one of a, b', 'listen: must be an absolute URL, got "nope"']);
  });
});

describe('ConfigReader: lists for the services still on their own parsers (RS, embedded IdP)', () => {
  const ALGS = ['RS256', 'ES256', 'EdDSA'] as const;

  it('enumList keeps the known items and reports the unknown ones together, in one problem', () => {
    const r = new ConfigReader('x', { ALGS: 'RS256,HS256,none' });
    expect(r.enumList('ALGS', ALGS, { default: ['RS256'] })).toEqual(['RS256']);
    expect(r.problems).toEqual(['ALGS: not allowed: HS256, none (allowed: RS256, ES256, EdDSA)']);
    expect(new ConfigReader('x', {}).enumList('ALGS', ALGS, { default: ['ES256'] })).toEqual(['ES256']);
  });

  it('urlTextList keeps each URL exactly as written and reports each bad entry', () => {
    const r = new ConfigReader('x', { RESOURCES: 'http://127.0.0.1:3100/mcp, http://127.0.0.1:3100, urn:x#frag, ftp://nope' });
    expect(r.urlTextList('RESOURCES', [], { shape: 'resource' })).toEqual(['http://127.0.0.1:3100/mcp', 'http://127.0.0.1:3100']);
    expect(r.problems).toEqual([
      'RESOURCES: entry must be a http or https URL, got "urn:x#frag"',
      'RESOURCES: entry must be a http or https URL, got "ftp://nope"',
    ]);
  });

  it('semicolon lists (a permission map) and ms durations', () => {
    const r = new ConfigReader('x', { MAP: 'notes:read=*;notes:write=a,b', COOLDOWN_MS: '0' });
    expect(r.list('MAP', { default: [], separator: 'semicolon' })).toEqual(['notes:read=*', 'notes:write=a,b']);
    expect(r.ms('COOLDOWN_MS', 30_000, { min: 0, max: 3_600_000 })).toBe(0);
    expect(r.problems).toEqual([]);
  });
});

describe('deepFreeze', () => {
  it('freezes nested plain objects and arrays, not class instances', () => {
    const url = new URL('http://x.test');
    const v = deepFreeze({ a: { b: [1, { c: 2 }] }, url });
    expect(Object.isFrozen(v.a.b[1])).toBe(true);
    expect(Object.isFrozen(url)).toBe(false);
  });
});
