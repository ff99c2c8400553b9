import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, dexAuthorizationServerMetadata, loadConfig, metadataPath } from '../src/app.ts';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';

const ISSUER = 'http://127.0.0.1:5556/dex';
const DOC = dexAuthorizationServerMetadata(ISSUER);
const WELL_KNOWN = '/.well-known/oauth-authorization-server/dex';

let upstream: FakeUpstream;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream((req, res) => {
    if (req.url === '/dex/broken') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('partial');
      setImmediate(() => res.socket?.destroy());
      return;
    }
    if (req.url.startsWith('/dex/auth')) {
      res.writeHead(302, { location: '/dex/auth/local/login?back=&state=abc', 'set-cookie': ['a=1; Path=/', 'b=2; HttpOnly'] });
      res.end('redirecting');
      return;
    }
    res.writeHead(201, {
      'content-type': 'application/json',
      'x-upstream': 'dex',
      'set-cookie': ['first=1; Path=/dex; HttpOnly', 'second=2; Path=/; SameSite=Lax'],
      'cache-control': 'no-store',
    });
    res.end(JSON.stringify({ method: req.method, url: req.url, length: req.body.length }));
  });
});
afterAll(() => upstream.close());
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function app(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const config = loadConfig({ AUTHZ_METADATA_UPSTREAM: upstream.origin, AUTHZ_METADATA_ISSUER: ISSUER, ...env });
  const a = await buildApp(config, { document: config.metadataEnabled ? DOC : undefined, logger: false });
  apps.push(a);
  return a;
}

describe('the RFC 8414 document', () => {
  it('lives where RFC 8414 §3.1 puts it for an issuer with a path', () => {
    expect(metadataPath(ISSUER)).toBe(WELL_KNOWN);
    expect(metadataPath('http://127.0.0.1:4000')).toBe('/.well-known/oauth-authorization-server');
  });

  it('is served from memory with the exact issuer, never asking the upstream', async () => {
    const a = await app();
    const before = upstream.seen.length;
    const res = await a.inject({ method: 'GET', url: WELL_KNOWN });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual(DOC);
    expect(res.json().issuer).toBe(ISSUER);
    expect(res.json()).not.toHaveProperty('registration_endpoint');
    expect(upstream.seen.length).toBe(before);
  });

  it('is readable cross-origin', async () => {
    const a = await app();
    const res = await a.inject({ method: 'GET', url: WELL_KNOWN, headers: { origin: 'http://127.0.0.1:3000' } });
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('answers a CORS preflight that asks for MCP-Protocol-Version', async () => {
    const a = await app();
    const res = await a.inject({
      method: 'OPTIONS',
      url: WELL_KNOWN,
      headers: {
        origin: 'http://127.0.0.1:3000',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'mcp-protocol-version',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toBe('GET, OPTIONS');
    expect(res.headers['access-control-allow-headers']).toBe('mcp-protocol-version');
  });

  it('is not served when AUTHZ_METADATA_ENABLED=false: the path goes to the upstream like any other', async () => {
    const a = await app({ AUTHZ_METADATA_ENABLED: 'false' });
    const res = await a.inject({ method: 'GET', url: WELL_KNOWN });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-upstream']).toBe('dex');
    expect(upstream.seen.at(-1)?.url).toBe(WELL_KNOWN);
  });

  it('refuses to build without a document when metadata is enabled', async () => {
    const config = loadConfig({ AUTHZ_METADATA_UPSTREAM: upstream.origin });
    await expect(buildApp(config, { logger: false })).rejects.toThrow(/no document/);
  });
});

describe('the reverse proxy', () => {
  forwardingTests();
  edgeCaseTests();
});

/** Requests and responses pass through unchanged: method, target, headers, body, redirects, every method. */
function forwardingTests(): void {
  it('forwards method, raw target, headers (Host included) and body unchanged', async () => {
    const a = await app();
    const body = 'grant_type=authorization_code&code=c1&code_verifier=v1&client_id=mcp-lab-cli';
    const res = await a.inject({
      method: 'POST',
      url: '/dex/token?x=%2F&y=1',
      headers: {
        host: '127.0.0.1:5556',
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Basic bWNwOnNlY3JldA==',
        cookie: 'session=s1',
        'x-custom': 'kept',
      },
      payload: body,
    });
    expect(res.statusCode).toBe(201);
    const seen = upstream.seen.at(-1)!;
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/dex/token?x=%2F&y=1');
    expect(seen.headers.host).toBe('127.0.0.1:5556');
    expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen.headers.authorization).toBe('Basic bWNwOnNlY3JldA==');
    expect(seen.headers.cookie).toBe('session=s1');
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.body.toString()).toBe(body);
  });

  it('returns status, headers, every Set-Cookie and the body unchanged', async () => {
    const a = await app();
    const res = await a.inject({ method: 'GET', url: '/dex/keys' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-upstream']).toBe('dex');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['set-cookie']).toEqual(['first=1; Path=/dex; HttpOnly', 'second=2; Path=/; SameSite=Lax']);
    expect(res.json()).toEqual({ method: 'GET', url: '/dex/keys', length: 0 });
  });

  it('passes redirects through without following them, Location untouched', async () => {
    const a = await app();
    const res = await a.inject({ method: 'GET', url: '/dex/auth?client_id=mcp-lab-cli&state=s' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/dex/auth/local/login?back=&state=abc');
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(res.body).toBe('redirecting');
    expect(upstream.seen.filter((r) => r.url.startsWith('/dex/auth/local')).length).toBe(0);
  });

  it.each(['PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const)('forwards %s', async (method) => {
    const a = await app();
    const res = await a.inject({ method, url: '/dex/anything' });
    expect(res.statusCode).toBe(201);
    expect(upstream.seen.at(-1)).toMatchObject({ method, url: '/dex/anything' });
  });

  it('forwards HEAD and returns the headers without a body', async () => {
    const a = await app();
    const res = await a.inject({ method: 'HEAD', url: '/dex/keys' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-upstream']).toBe('dex');
    expect(res.body).toBe('');
    expect(upstream.seen.at(-1)).toMatchObject({ method: 'HEAD', url: '/dex/keys' });
  });
}

/** Broken and large bodies, odd paths and content types, hop-by-hop headers, a dead upstream. */
function edgeCaseTests(): void {
  it('survives an upstream that breaks off mid-body and keeps serving', async () => {
    const a = await app();
    // Headers were already sent, so the only honest signal left is to cut the client's response short too.
    await expect(a.inject({ method: 'GET', url: '/dex/broken' })).rejects.toThrow(/destroyed before completion/);
    const after = await a.inject({ method: 'GET', url: '/dex/keys' });
    expect(after.statusCode).toBe(201);
  });

  it('forwards the root path and long paths', async () => {
    const a = await app();
    expect((await a.inject({ method: 'GET', url: '/' })).statusCode).toBe(201);
    expect(upstream.seen.at(-1)?.url).toBe('/');
    const long = `/dex/${'a'.repeat(300)}`;
    expect((await a.inject({ method: 'GET', url: long })).statusCode).toBe(201);
    expect(upstream.seen.at(-1)?.url).toBe(long);
  });

  it('streams a body larger than fastify\'s body limit', async () => {
    const a = await app();
    const big = Buffer.alloc(3 * 1024 * 1024, 0x61);
    const res = await a.inject({ method: 'POST', url: '/dex/upload', payload: big, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.statusCode).toBe(201);
    expect(upstream.seen.at(-1)?.body.equals(big)).toBe(true);
  });

  it.each([
    ['no Content-Type', {}],
    ['a malformed Content-Type', { 'content-type': 'not a media type' }],
  ])('leaves a body with %s to the upstream', async (_label, headers: Record<string, string>) => {
    const a = await app();
    const res = await a.inject({ method: 'POST', url: '/dex/bare', payload: 'raw', headers });
    expect(res.statusCode).toBe(201);
    expect(upstream.seen.at(-1)?.body.toString()).toBe('raw');
    expect(upstream.seen.at(-1)?.headers['content-type']).toBe(headers['content-type']);
  });

  it('drops hop-by-hop headers (RFC 9110 §7.6.1), including those named in Connection', async () => {
    const a = await app();
    await a.inject({
      method: 'GET',
      url: '/dex/hop',
      headers: { connection: 'x-hop', 'x-hop': 'drop-me', 'keep-alive': 'timeout=5', te: 'trailers', 'x-end': 'keep' },
    });
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
    expect(seen.headers['x-end']).toBe('keep');
  });

  it('answers 502 bad_gateway, naming the upstream, when the upstream is down', async () => {
    const deadPort = await freePort();
    const config = loadConfig({ AUTHZ_METADATA_UPSTREAM: `http://127.0.0.1:${deadPort}`, AUTHZ_METADATA_ISSUER: ISSUER });
    const a = await buildApp(config, { document: DOC, logger: false });
    apps.push(a);
    const res = await a.inject({ method: 'POST', url: '/dex/token', payload: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({
      error: 'bad_gateway',
      error_description: expect.stringContaining(`authorization server at http://127.0.0.1:${deadPort} did not answer`),
    });
    // The document is static: it is still served while the upstream is down.
    expect((await a.inject({ method: 'GET', url: WELL_KNOWN })).statusCode).toBe(200);
  });
}
