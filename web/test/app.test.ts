/** The web app through app.inject: the page, its configuration, its assets and its security headers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import type { Bundle } from '../src/bundle.ts';
import { loadConfig, WebConfigError } from '../src/config.ts';

const bundle: Bundle = new Map([['/assets/main.js', { contentType: 'text/javascript; charset=utf-8', body: new TextEncoder().encode('export {};') }]]);

describe('web app', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp(loadConfig({ WEB_PORT: '3100', WEB_RS_URL: 'http://127.0.0.1:3000', WEB_IDP_NAME: 'dex', WEB_CLIENT_ID: 'mcp-lab-cli', WEB_LOG_LEVEL: 'silent' }), { bundle });
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(['/', '/callback'])('serves the page at %s with a strict CSP and no Referer for the code', async (url) => {
    const res = await app.inject({ url: `${url}?code=abc&state=xyz` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<script type="module" src="/assets/main.js"></script>');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('tells the page where the RS is and how it is registered', async () => {
    const res = await app.inject({ url: '/lab.json' });
    expect(res.json()).toEqual({ rsUrl: 'http://127.0.0.1:3000', idpName: 'dex', registration: { method: 'pre-registered', clientId: 'mcp-lab-cli', confidential: false } });
  });

  it('serves the bundle and answers 404 for anything else under /assets/', async () => {
    const js = await app.inject({ url: '/assets/main.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toBe('export {};');
    const missing = await app.inject({ url: '/assets/../src/config.ts' });
    expect(missing.statusCode).toBe(404);
  });

  it('escapes the IdP name in the page', async () => {
    const other = await buildApp(loadConfig({ WEB_IDP_NAME: '<script>x</script>', WEB_LOG_LEVEL: 'silent' }), { bundle });
    const res = await other.inject({ url: '/' });
    expect(res.body).not.toContain('<script>x</script>');
    expect(res.body).toContain('&#60;script&#62;x&#60;/script&#62;');
    await other.close();
  });
});

describe('loadConfig', () => {
  it('defaults: DCR, the lab ports', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 3100,
      publicUrl: 'http://127.0.0.1:3100',
      logLevel: 'info',
      page: { rsUrl: 'http://127.0.0.1:3000', idpName: 'embedded', registration: { method: 'dcr' } },
    });
  });

  it('a CIMD URL when there is no client id', () => {
    expect(loadConfig({ WEB_CLIENT_METADATA_URL: 'https://client.example/mcp.json' }).page.registration).toEqual({ method: 'cimd', clientMetadataUrl: 'https://client.example/mcp.json' });
  });

  it('names every bad variable at once', () => {
    let err: unknown;
    try {
      loadConfig({ WEB_PORT: 'x', WEB_RS_URL: 'http://127.0.0.1:3000/mcp', WEB_CLIENT_METADATA_URL: 'http://client.example/m.json', WEB_CLIENT_CONFIDENTIAL: 'yes' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WebConfigError);
    expect((err as WebConfigError).problems).toEqual([
      'WEB_PORT must be a TCP port, got "x"',
      'WEB_RS_URL must be an http(s) origin without a path, got "http://127.0.0.1:3000/mcp"',
      'WEB_CLIENT_CONFIDENTIAL must be true or false',
      'WEB_CLIENT_METADATA_URL must be an https URL with a path',
    ]);
  });
});
