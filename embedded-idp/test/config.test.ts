import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_RESOURCES, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  acceptedTests();
  refusalTests();
});

/** Defaults, every IDP_* variable read, and the issuer derived from the port. */
function acceptedTests(): void {
  it('defaults to the lab issuer, resources, scopes and a 600 s access token', () => {
    const c = loadConfig({});
    expect(c.issuer).toBe('http://127.0.0.1:4000');
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(4000);
    expect(c.resources).toEqual([...DEFAULT_RESOURCES]);
    expect(c.scopes).toEqual(['notes:read', 'notes:write']);
    expect(c.accessTokenTtlS).toBe(600);
    expect(c.cookieKeys).toHaveLength(1);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every IDP_* variable', () => {
    const c = loadConfig({
      IDP_ISSUER: 'http://127.0.0.1:4100',
      IDP_HOST: '0.0.0.0',
      IDP_PORT: '4100',
      IDP_RESOURCES: 'http://127.0.0.1:3100/mcp, http://127.0.0.1:3100',
      IDP_SCOPES: 'notes:read notes:write admin',
      IDP_ACCESS_TOKEN_TTL_S: '60',
      IDP_COOKIE_KEYS: 'a-long-cookie-key-1,a-long-cookie-key-2',
      IDP_LOG_LEVEL: 'debug',
    });
    expect(c).toMatchObject({
      issuer: 'http://127.0.0.1:4100',
      host: '0.0.0.0',
      port: 4100,
      resources: ['http://127.0.0.1:3100/mcp', 'http://127.0.0.1:3100'],
      scopes: ['notes:read', 'notes:write', 'admin'],
      accessTokenTtlS: 60,
      cookieKeys: ['a-long-cookie-key-1', 'a-long-cookie-key-2'],
      logLevel: 'debug',
    });
  });

  it('derives the default issuer from IDP_PORT', () => {
    expect(loadConfig({ IDP_PORT: '4321' }).issuer).toBe('http://127.0.0.1:4321');
  });
}

/** Bad values named in one error and bad issuers refused; then the default scope and CIMD origins, read and refused. */
function refusalTests(): void {
  it('reports every bad variable in one error', () => {
    let caught: unknown;
    try {
      loadConfig({
        IDP_ISSUER: 'not a url',
        IDP_PORT: '70000',
        IDP_RESOURCES: 'http://ok.example, urn:x#frag, ftp://nope',
        IDP_SCOPES: 'notes:read bad"scope',
        IDP_ACCESS_TOKEN_TTL_S: '-5',
        IDP_COOKIE_KEYS: 'short',
        IDP_LOG_LEVEL: 'loud',
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const { problems, message } = caught as ConfigError;
    for (const name of ['IDP_ISSUER', 'IDP_PORT', 'IDP_RESOURCES', 'IDP_SCOPES', 'IDP_ACCESS_TOKEN_TTL_S', 'IDP_COOKIE_KEYS', 'IDP_LOG_LEVEL']) {
      expect(message).toContain(name);
    }
    expect(problems.filter((p) => p.startsWith('IDP_RESOURCES'))).toHaveLength(2);
  });

  it.each([
    ['a trailing slash', 'http://127.0.0.1:4000/'],
    ['a query', 'http://127.0.0.1:4000?x=1'],
    ['a fragment', 'http://127.0.0.1:4000#f'],
  ])('refuses an issuer with %s', (_what, value) => {
    expect(() => loadConfig({ IDP_ISSUER: value })).toThrow(/IDP_ISSUER/);
  });

  it('reads the default scope and the trusted CIMD origins', () => {
    const c = loadConfig({ IDP_DEFAULT_SCOPE: 'notes:read notes:write', IDP_CIMD_TRUSTED_ORIGINS: 'https://127.0.0.1:8443', IDP_CIMD_CA_FILE: '/tmp/ca.pem' });
    expect(c).toMatchObject({ defaultScope: ['notes:read', 'notes:write'], cimdTrustedOrigins: ['https://127.0.0.1:8443'], cimdCaFile: '/tmp/ca.pem' });
    expect(loadConfig({}).defaultScope).toEqual(['notes:read']);
  });

  it('refuses a default scope it cannot grant and a CIMD origin that is not an https origin', () => {
    let err: unknown;
    try {
      loadConfig({ IDP_DEFAULT_SCOPE: 'admin', IDP_CIMD_TRUSTED_ORIGINS: 'http://127.0.0.1:8443,https://127.0.0.1:8443/doc.json' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems.some((p) => p.startsWith('IDP_DEFAULT_SCOPE: entry "admin"'))).toBe(true);
    expect(problems.filter((p) => p.startsWith('IDP_CIMD_TRUSTED_ORIGINS'))).toHaveLength(2);
  });
}
