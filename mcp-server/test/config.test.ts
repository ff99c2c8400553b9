/** loadConfig: defaults, and one error naming every bad variable. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, LIMIT_SPECS, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  parsingTests();
  limitTests();
});

/** Defaults, claim mode and the one error that names every bad variable. */
function parsingTests(): void {
  it('applies the documented defaults', () => {
    const c = loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000' });
    expect(c).toMatchObject({
      publicUrl: 'http://127.0.0.1:3000',
      host: '127.0.0.1',
      port: 3000,
      issuer: 'http://127.0.0.1:4000',
      authorizationServers: ['http://127.0.0.1:4000'],
      jwksUrl: undefined,
      audiences: ['http://127.0.0.1:3000', 'http://127.0.0.1:3000/mcp', 'http://127.0.0.1:3000/sse'],
      algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'],
      permissionsFrom: { kind: 'scope' },
      scopesSupported: ['notes:read', 'notes:write'],
      allowedOrigins: ['http://127.0.0.1:3000'],
      dbPath: ':memory:',
      clockSkewS: 30,
      tokenCacheMaxEntries: 10_000,
      logLevel: 'info',
      drainDelayMs: 0,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads claim mode and the permission map', () => {
    const c = loadConfig({
      MCP_ISSUER: 'http://127.0.0.1:5556/dex',
      MCP_PERMISSIONS_FROM: 'claim:email',
      MCP_PERMISSION_MAP: 'notes:read=*;notes:write=alice@example.com,admins',
    });
    expect(c.permissionsFrom).toEqual({ kind: 'claim', claim: 'email' });
    expect(c.permissionMap).toEqual({ 'notes:read': ['*'], 'notes:write': ['alice@example.com', 'admins'] });
  });

  it('reports every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        MCP_PUBLIC_URL: 'not a url',
        MCP_PORT: '70000',
        MCP_JWKS_URL: 'ftp://x/jwks',
        MCP_ALGORITHMS: 'RS256,HS256,none',
        MCP_PERMISSIONS_FROM: 'groups',
        MCP_PERMISSION_MAP: 'garbage',
        MCP_ALLOWED_ORIGINS: 'nope',
        MCP_CLOCK_SKEW_S: '-1',
        MCP_LOG_LEVEL: 'loud',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of [
      'MCP_ISSUER', 'MCP_PUBLIC_URL', 'MCP_PORT', 'MCP_JWKS_URL', 'MCP_ALGORITHMS', 'MCP_PERMISSIONS_FROM',
      'MCP_PERMISSION_MAP', 'MCP_ALLOWED_ORIGINS', 'MCP_CLOCK_SKEW_S', 'MCP_LOG_LEVEL',
    ]) {
      expect(message).toContain(`${name}:`);
    }
    expect((error as ConfigError).problems).toHaveLength(10);
  });

  it('reads the drain delay (README "Scale-out") and refuses a negative or unbounded one', () => {
    expect(loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_DRAIN_DELAY_MS: '5000' }).drainDelayMs).toBe(5_000);
    expect(() => loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_DRAIN_DELAY_MS: '-1' })).toThrow(/MCP_DRAIN_DELAY_MS:/);
    expect(() => loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_DRAIN_DELAY_MS: '600001' })).toThrow(/MCP_DRAIN_DELAY_MS:/);
    expect(() => loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_DRAIN_DELAY_MS: 'soon' })).toThrow(/MCP_DRAIN_DELAY_MS:/);
  });

  it('reads the verified-token cache size (0 turns it off) and refuses a bad one', () => {
    expect(loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_TOKEN_CACHE_SIZE: '0' }).tokenCacheMaxEntries).toBe(0);
    expect(() => loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_TOKEN_CACHE_SIZE: '-5' })).toThrow(/MCP_TOKEN_CACHE_SIZE:/);
  });
}

/** The limits: defaults from LIMIT_SPECS, ranges, the README table, and the rules between variables. */
function limitTests(): void {
  it('applies the documented limit defaults, every one from LIMIT_SPECS, frozen', () => {
    const c = loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000' });
    expect(c.limits).toEqual({
      notesMaxPerUser: 1_000,
      noteMaxChars: 2_000,
      notesMaxBytesPerUser: 1_048_576,
      notesPageSizeMax: 100,
      sessionIdleTimeoutMs: 900_000,
      sessionMaxLifetimeMs: 86_400_000,
      sessionsMaxPerSubject: 20,
      sseStreamsMaxPerSubject: 20,
      listenStreamsMaxPerSubject: 20,
      cookieSessionsMaxPerSubject: 10,
      cookieSessionsMax: 100_000,
      cookieSessionMaxLifetimeMs: 43_200_000,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 10_000,
      bodyLimitBytes: 262_144,
      jsonMaxDepth: 32,
      notesPageMaxBytes: 65_536,
      rateLimitPerS: 50,
      rateLimitBurst: 100,
      drainTimeoutMs: 10_000,
    });
    expect(Object.fromEntries(Object.entries(LIMIT_SPECS).map(([k, spec]) => [k, spec.defaultValue]))).toEqual(c.limits);
    expect(Object.isFrozen(c.limits)).toBe(true);
    expect(c).toMatchObject({ jwksTimeoutMs: 5_000, jwksCooldownMs: 1_000, jwksMaxAgeMs: 600_000, jwksMaxStaleMs: 3_600_000, jwksRetryMs: 10_000 });
    expect(c.allowedHosts).toEqual(['127.0.0.1:3000', 'localhost', '127.0.0.1', '[::1]']);
  });

  it('names every limit variable that is out of range, in one error', () => {
    const env: Record<string, string> = { MCP_ISSUER: 'http://127.0.0.1:4000' };
    for (const spec of Object.values(LIMIT_SPECS)) env[spec.env] = String(spec.max + 1);
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    for (const spec of Object.values(LIMIT_SPECS)) expect((error as ConfigError).message).toContain(`${spec.env}:`);
  });

  it('is documented: the README "Limits" table names every limit variable with its default', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Limits'));
    const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| Limit |')));
    for (const spec of Object.values(LIMIT_SPECS)) {
      const row = table.split('\n').find((line) => line.includes(`\`${spec.env}\``));
      expect(row, spec.env).toBeDefined();
      expect(row, spec.env).toContain(`\`${spec.defaultValue}\``);
    }
  });

  it('refuses a headers timeout above the request timeout', () => {
    expect(() => loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_REQUEST_TIMEOUT_MS: '1000', MCP_HEADERS_TIMEOUT_MS: '2000' })).toThrow(
      /MCP_HEADERS_TIMEOUT_MS: must not exceed MCP_REQUEST_TIMEOUT_MS/,
    );
  });

  it('requires a permission map in claim mode', () => {
    expect(() => loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_PERMISSIONS_FROM: 'claim:email' })).toThrow(/MCP_PERMISSION_MAP/);
  });
}
