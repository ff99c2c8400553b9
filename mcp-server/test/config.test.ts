/** loadConfig: defaults, and one error naming every bad variable. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
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

  it('reads the verified-token cache size (0 turns it off) and refuses a bad one', () => {
    expect(loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_TOKEN_CACHE_SIZE: '0' }).tokenCacheMaxEntries).toBe(0);
    expect(() => loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_TOKEN_CACHE_SIZE: '-5' })).toThrow(/MCP_TOKEN_CACHE_SIZE:/);
  });

  it('requires a permission map in claim mode', () => {
    expect(() => loadConfig({ MCP_ISSUER: 'http://127.0.0.1:4000', MCP_PERMISSIONS_FROM: 'claim:email' })).toThrow(/MCP_PERMISSION_MAP/);
  });
});
