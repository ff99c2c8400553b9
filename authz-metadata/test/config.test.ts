import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/app.ts';
import { DEFAULT_DOCUMENT_PATH } from '../src/config.ts';

describe('loadConfig', () => {
  it('defaults to the lab layout: public origin 5556, Dex on 5558, issuer /dex, metadata on', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 5556,
      issuer: 'http://127.0.0.1:5556/dex',
      documentPath: DEFAULT_DOCUMENT_PATH,
      metadataEnabled: true,
      logLevel: 'info',
    });
    expect(c.upstream.origin).toBe('http://127.0.0.1:5558');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      AUTHZ_METADATA_HOST: '0.0.0.0',
      AUTHZ_METADATA_PORT: '6000',
      AUTHZ_METADATA_UPSTREAM: 'http://127.0.0.1:7000',
      AUTHZ_METADATA_ISSUER: 'http://127.0.0.1:6000/dex',
      AUTHZ_METADATA_DOCUMENT: '/tmp/doc.json',
      AUTHZ_METADATA_ENABLED: 'false',
      AUTHZ_METADATA_LOG_LEVEL: 'warn',
    });
    expect(c).toMatchObject({
      host: '0.0.0.0',
      port: 6000,
      issuer: 'http://127.0.0.1:6000/dex',
      documentPath: '/tmp/doc.json',
      metadataEnabled: false,
      logLevel: 'warn',
    });
    expect(c.upstream.origin).toBe('http://127.0.0.1:7000');
  });

  it.each([
    ['AUTHZ_METADATA_PORT', 'eighty'],
    ['AUTHZ_METADATA_PORT', '70000'],
    ['AUTHZ_METADATA_UPSTREAM', 'not a url'],
    ['AUTHZ_METADATA_UPSTREAM', 'https://127.0.0.1:5558'],
    ['AUTHZ_METADATA_UPSTREAM', 'http://127.0.0.1:5558/dex'],
    ['AUTHZ_METADATA_ISSUER', 'nope'],
    ['AUTHZ_METADATA_ISSUER', 'http://127.0.0.1:5556/dex?x=1'],
    ['AUTHZ_METADATA_ISSUER', 'http://127.0.0.1:5556/dex/'],
    ['AUTHZ_METADATA_ISSUER', 'ftp://127.0.0.1/dex'],
    ['AUTHZ_METADATA_ENABLED', 'maybe'],
    ['AUTHZ_METADATA_LOG_LEVEL', 'loud'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toHaveLength(1);
    expect((caught as ConfigError).problems[0]).toContain(name);
  });

  it('reports every problem at once', () => {
    expect(() => loadConfig({ AUTHZ_METADATA_PORT: 'x', AUTHZ_METADATA_ISSUER: 'y' })).toThrow(
      expect.objectContaining({ problems: [expect.stringContaining('AUTHZ_METADATA_PORT'), expect.stringContaining('AUTHZ_METADATA_ISSUER')] }),
    );
  });
});
