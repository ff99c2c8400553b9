/**
 * The fault-injecting layer through app.inject against a real fake upstream on loopback: each quirk's rewrite as
 * the client sees it, the catalogue's names in the configuration, and the refresh families.
 */
import type { FastifyInstance } from 'fastify';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QUIRK_NAMES, buildApp, dexAuthorizationServerMetadata, loadConfig, metadataPath, type QuirkName } from '../src/app.ts';
import { RefreshFamilies } from '../src/quirks/refresh-families.ts';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';

const ISSUER = 'http://127.0.0.1:5556/dex';
const DOC = dexAuthorizationServerMetadata(ISSUER);
const CALLBACK = 'http://127.0.0.1:40000/callback';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A JWT as the upstream would issue it (its signature is never checked by the layer, which re-signs). */
const UPSTREAM_JWT = `${b64({ alg: 'RS256', typ: 'at+jwt', kid: 'upstream' })}.${b64({ iss: ISSUER, aud: 'rs', sub: 'alice', iat: 1000, exp: 1600 })}.c2ln`;

let upstream: FakeUpstream;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream((req, res) => {
    if (req.url.startsWith('/dex/approval')) {
      res.writeHead(303, { location: `${CALLBACK}?code=c1&state=s1&iss=${encodeURIComponent(ISSUER)}` });
      res.end();
      return;
    }
    if (req.url === '/dex/token') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const jwt = req.body.toString().includes('code=jwt');
      res.end(JSON.stringify({ access_token: jwt ? UPSTREAM_JWT : 'at', token_type: 'Bearer', expires_in: 600, refresh_token: `rt-${upstream.seen.length}` }));
      return;
    }
    res.writeHead(401, { 'www-authenticate': 'Bearer resource_metadata="x"', 'content-type': 'application/json' });
    res.end('{}');
  });
});
afterAll(() => upstream.close());
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function layer(quirks: readonly QuirkName[]): Promise<FastifyInstance> {
  const config = loadConfig({ AUTHZ_METADATA_UPSTREAM: upstream.origin, AUTHZ_METADATA_ISSUER: ISSUER, AUTHZ_METADATA_QUIRKS: quirks.join(',') });
  const app = await buildApp(config, { document: DOC, logger: false });
  apps.push(app);
  return app;
}

describe('configuration', () => {
  it('AUTHZ_METADATA_QUIRKS takes the catalogue names', () => {
    expect(loadConfig({ AUTHZ_METADATA_QUIRKS: 'no-iss, no-dcr' }).quirks).toEqual(['no-iss', 'no-dcr']);
  });

  it('an unknown quirk stops the service naming the variable and the known names', () => {
    expect(() => loadConfig({ AUTHZ_METADATA_QUIRKS: 'no-iss,bogus' })).toThrow(/AUTHZ_METADATA_QUIRKS: not allowed: bogus \(allowed: issuer-trailing-slash, /);
  });

  it('every catalogue name is kebab-case and unique', () => {
    expect(new Set(QUIRK_NAMES).size).toBe(QUIRK_NAMES.length);
    for (const n of QUIRK_NAMES) expect(n).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});

describe('metadata quirks on the served document', () => {
  it('issuer-trailing-slash adds the slash', async () => {
    const res = await (await layer(['issuer-trailing-slash'])).inject({ url: metadataPath(ISSUER) });
    expect(res.json().issuer).toBe(`${ISSUER}/`);
  });

  it('no-s256 and no-dcr remove their fields', async () => {
    const res = await (await layer(['no-s256', 'no-dcr'])).inject({ url: metadataPath(ISSUER) });
    expect(res.json()).not.toHaveProperty('code_challenge_methods_supported');
    expect(res.json()).not.toHaveProperty('registration_endpoint');
  });

  it('no-rfc8414 answers 404 for the RFC 8414 document', async () => {
    const res = await (await layer(['no-rfc8414'])).inject({ url: metadataPath(ISSUER) });
    expect(res.statusCode).toBe(404);
  });
});

describe('authorization response quirks', () => {
  it('no-iss removes iss from the redirect to the client', async () => {
    const res = await (await layer(['no-iss'])).inject({ url: '/dex/approval?req=1' });
    expect(res.statusCode).toBe(303);
    expect(new URL(res.headers.location as string).searchParams.has('iss')).toBe(false);
  });

  it('wrong-iss replaces it with another tenant', async () => {
    const res = await (await layer(['wrong-iss'])).inject({ url: '/dex/approval?req=1' });
    expect(new URL(res.headers.location as string).searchParams.get('iss')).toBe(`${ISSUER}/other-tenant`);
  });

  it('reject-resource sends invalid_target back to a loopback redirect_uri, never elsewhere', async () => {
    const app = await layer(['reject-resource']);
    const q = (redirect: string) => `/dex/auth?client_id=c&state=s9&resource=https%3A%2F%2Frs&redirect_uri=${encodeURIComponent(redirect)}`;
    const back = await app.inject({ url: q(CALLBACK) });
    expect(back.statusCode).toBe(302);
    const loc = new URL(back.headers.location as string);
    expect([loc.origin + loc.pathname, loc.searchParams.get('error'), loc.searchParams.get('state')]).toEqual([CALLBACK, 'invalid_target', 's9']);
    const away = await app.inject({ url: q('https://evil.example/cb') });
    expect(away.statusCode).toBe(400);
    expect(away.headers.location).toBeUndefined();
  });
});

describe('token quirks', () => {
  const form = (body: Record<string, string>) => ({
    method: 'POST' as const,
    url: '/dex/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(body).toString(),
  });

  it('short-token-ttl announces 20 s', async () => {
    const res = await (await layer(['short-token-ttl'])).inject(form({ grant_type: 'authorization_code', code: 'c1' }));
    expect(res.json().expires_in).toBe(20);
  });

  it('short-token-ttl re-signs a JWT with exp = iat + 20, verifiable with the layer JWKS only', async () => {
    const app = await layer(['short-token-ttl']);
    const token = (await app.inject(form({ grant_type: 'authorization_code', code: 'jwt' }))).json().access_token as string;
    const jwks = createLocalJWKSet((await app.inject({ url: '/.quirks/jwks' })).json());
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { currentDate: new Date(1005_000) });
    expect([payload.iat, payload.exp, payload.aud, protectedHeader.typ]).toEqual([1000, 1020, 'rs', 'at+jwt']);
  });

  it('clock-skew moves iat, nbf and exp 300 s ahead; rotate-keys signs the second token with a new key', async () => {
    const skew = await layer(['clock-skew']);
    const skewed = decodeJwt((await skew.inject(form({ grant_type: 'authorization_code', code: 'jwt' }))).json().access_token as string);
    expect([skewed.iat, skewed.nbf, skewed.exp]).toEqual([1300, 1300, 1900]);
    const rotate = await layer(['rotate-keys']);
    const kid = async () => decodeProtectedHeader((await rotate.inject(form({ grant_type: 'authorization_code', code: 'jwt' }))).json().access_token as string).kid;
    const [k1, k2] = [await kid(), await kid()];
    expect(k1).not.toBe(k2);
    expect((await rotate.inject({ url: '/.quirks/jwks' })).json().keys.map((k: { kid: string }) => k.kid)).toEqual([k2]);
    expect((await rotate.inject({ url: metadataPath(ISSUER) })).json().jwks_uri).toBe('http://127.0.0.1:5556/.quirks/jwks');
  });

  it('single-use-refresh answers invalid_grant to a reused refresh token without asking the upstream', async () => {
    const app = await layer(['single-use-refresh']);
    const first = await app.inject(form({ grant_type: 'authorization_code', code: 'c1' }));
    const rt = first.json().refresh_token as string;
    expect((await app.inject(form({ grant_type: 'refresh_token', refresh_token: rt }))).statusCode).toBe(200);
    const seen = upstream.seen.length;
    const reuse = await app.inject(form({ grant_type: 'refresh_token', refresh_token: rt }));
    expect([reuse.statusCode, reuse.json().error]).toEqual([400, 'invalid_grant']);
    expect(upstream.seen.length).toBe(seen);
    expect((await app.inject({ url: '/.quirks/refresh-families' })).json()).toMatchObject({ reuseDetected: 1, revoked: 1 });
  }, 10_000);
});

describe('RS quirks', () => {
  it('strip-www-authenticate drops the challenge and keeps the status', async () => {
    const res = await (await layer(['strip-www-authenticate'])).inject({ method: 'POST', url: '/mcp', payload: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });
});

describe('refresh families', () => {
  it('a reuse revokes the family: the newest token of it is refused too', () => {
    const f = new RefreshFamilies();
    f.issued('a', undefined);
    expect(f.use('a')).toBe('ok');
    f.issued('b', 'a');
    expect(f.use('a')).toBe('reuse');
    expect(f.use('b')).toBe('revoked');
  });

  it('an AS that does not rotate keeps the token usable', () => {
    const f = new RefreshFamilies();
    f.issued('a', undefined);
    expect(f.use('a')).toBe('ok');
    f.issued('a', 'a');
    expect(f.use('a')).toBe('ok');
  });
});
