import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@mcp-lab/protocol/config';
import { DEX_CONFIG_PATH, DEX_DEFAULTS, dexConfigValuesFromEnv, renderDexConfig } from '../scripts/dex-config.ts';

describe('dex/config.yaml', () => {
  it('is the template rendered with the defaults (run `node scripts/dex-config.ts dex/config.yaml` after editing the template)', () => {
    expect(readFileSync(DEX_CONFIG_PATH, 'utf8')).toBe(renderDexConfig(DEX_DEFAULTS));
  });

  it('puts the issuer on the public origin and Dex behind it on 5558', () => {
    const yaml = readFileSync(DEX_CONFIG_PATH, 'utf8');
    expect(yaml).toContain('issuer: "http://127.0.0.1:5556/dex"');
    expect(yaml).toContain('http: "127.0.0.1:5558"');
  });
});

describe('renderDexConfig', () => {
  it('fills every slot', () => {
    const yaml = renderDexConfig({
      issuer: 'http://127.0.0.1:41000/dex',
      listen: '127.0.0.1:41001',
      allowedOrigins: ['http://127.0.0.1:41002'],
      idTokenLifetime: '5m',
      clientId: 'other-cli',
      audienceClientId: 'other-rs',
    });
    expect(yaml).not.toMatch(/\{\{/);
    expect(yaml).toContain('- id: "other-cli"');
    expect(yaml).toContain('- id: "other-rs"');
    expect(yaml).toContain('trustedPeers: ["other-cli"]');
    expect(yaml).toContain('issuer: "http://127.0.0.1:41000/dex"');
    expect(yaml).toContain('http: "127.0.0.1:41001"');
    expect(yaml).toContain('allowedOrigins: ["http://127.0.0.1:41002"]');
    expect(yaml).toContain('idTokens: "5m"');
  });

  it.each([
    ['an issuer with a trailing slash', { issuer: 'http://127.0.0.1:5556/dex/' }, /trailing slash/],
    ['a listen address without port', { listen: '127.0.0.1' }, /listen: must be host:port/],
    ['an allowed origin with a path', { allowedOrigins: ['http://127.0.0.1:3000/app'] }, /bare origin/],
    ['a lifetime that is not a Go duration', { idTokenLifetime: '10 minutes' }, /Go duration/],
  ])('refuses %s', (_label, override, message) => {
    expect(() => renderDexConfig({ ...DEX_DEFAULTS, ...override })).toThrow(ConfigError);
    expect(() => renderDexConfig({ ...DEX_DEFAULTS, ...override })).toThrow(message);
  });

  it('refuses a template slot it does not know', () => {
    expect(() => renderDexConfig(DEX_DEFAULTS, 'issuer: {{isuser}}\n')).toThrow(/unknown slot \{\{isuser\}\}/);
  });

  it('reports every bad value at once, each by name', () => {
    let caught: unknown;
    try {
      renderDexConfig({ ...DEX_DEFAULTS, issuer: 'http://127.0.0.1:5556/dex?x', listen: 'nope', allowedOrigins: ['http://127.0.0.1:3000/'] });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(['issuer', 'listen', 'allowedOrigins']);
  });

  it.each([
    ['DEX_ISSUER', 'http://127.0.0.1:5556/dex/', /^DEX_ISSUER: must have no trailing slash/],
    ['DEX_LISTEN', '5558', /^DEX_LISTEN: must be host:port/],
    ['DEX_ALLOWED_ORIGINS', 'http://a.test,http://b.test/app', /^DEX_ALLOWED_ORIGINS: must be a bare origin/],
    ['DEX_ID_TOKEN_LIFETIME', '1 hour', /^DEX_ID_TOKEN_LIFETIME: must be a Go duration/],
  ])('names the variable when %s=%s is refused', (name, value, message) => {
    let caught: unknown;
    try {
      dexConfigValuesFromEnv({ [name]: value });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toHaveLength(1);
    expect((caught as ConfigError).problems[0]).toMatch(message);
  });

  it('reads overrides from the environment', () => {
    expect(
      dexConfigValuesFromEnv({ DEX_ISSUER: 'http://127.0.0.1:1/dex', DEX_ALLOWED_ORIGINS: 'http://a.test, http://b.test' }),
    ).toEqual({ ...DEX_DEFAULTS, issuer: 'http://127.0.0.1:1/dex', allowedOrigins: ['http://a.test', 'http://b.test'] });
  });
});
