/** RFC 9728 documents (root and path-suffixed) and their CORS. */
import { parseProtectedResourceMetadata } from '@mcp-lab/protocol';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISSUER, PUBLIC_URL, testApp } from './helpers.ts';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp({ MCP_JWKS_URL: 'http://127.0.0.1:1/jwks' });
});
afterAll(async () => {
  await app?.close();
});

describe('protected resource metadata', () => {
  it.each([
    { path: '/.well-known/oauth-protected-resource', resource: PUBLIC_URL },
    { path: '/.well-known/oauth-protected-resource/mcp', resource: `${PUBLIC_URL}/mcp` },
    { path: '/.well-known/oauth-protected-resource/sse', resource: `${PUBLIC_URL}/sse` },
  ])('$path names $resource', async ({ path, resource }) => {
    const res = await app.inject({ method: 'GET', url: path });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const doc = parseProtectedResourceMetadata(res.json());
    expect(doc).toMatchObject({
      resource,
      authorization_servers: [ISSUER],
      scopes_supported: ['notes:read', 'notes:write'],
      bearer_methods_supported: ['header'],
    });
    expect(doc.resource_name).toBeTypeOf('string');
  });

  it('is readable cross-origin (CORS *)', async () => {
    const res = await app.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource/mcp', headers: { origin: 'http://any.example' } });
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('answers a CORS preflight from any origin', async () => {
    const res = await app.inject({
      method: 'OPTIONS',
      url: '/.well-known/oauth-protected-resource',
      headers: { origin: 'http://any.example', 'access-control-request-method': 'GET' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('does not grant CORS on MCP endpoints to a foreign origin', async () => {
    const res = await app.inject({
      method: 'OPTIONS',
      url: '/mcp',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('honours MCP_AUTHORIZATION_SERVERS and MCP_SCOPES_SUPPORTED', async () => {
    const other = await testApp({ MCP_AUTHORIZATION_SERVERS: 'http://127.0.0.1:5556/dex', MCP_SCOPES_SUPPORTED: 'openid email' });
    try {
      const doc = (await other.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource' })).json();
      expect(doc.authorization_servers).toEqual(['http://127.0.0.1:5556/dex']);
      expect(doc.scopes_supported).toEqual(['openid', 'email']);
    } finally {
      await other.close();
    }
  });
});
