/** The verified-token cache: it saves signature checks and JWKS fetches, and never accepts what a full check refuses. */
import { BearerError } from '@mcp-lab/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJwksResolver, JWKS_MAX_AGE_MS } from '../src/auth/jwks.ts';
import { VerifiedTokenCache } from '../src/auth/token-cache.ts';
import { createTokenVerifier } from '../src/auth/verify-token.ts';
import type { Principal } from '../src/auth/principal.ts';
import { makeKeys, MCP_HEADERS, mint, openSession, startJwksServer, testApp, testConfig, toolCall } from './helpers.ts';
import type { JwksServer, Keys } from './helpers.ts';

let k1: Keys;
let k2: Keys;
let k1Replacement: Keys;
let served: Keys[];
let jwks: JwksServer;

beforeAll(async () => {
  k1 = await makeKeys('k1');
  k2 = await makeKeys('k2');
  k1Replacement = await makeKeys('k1');
  served = [k1];
  jwks = await startJwksServer(() => served.map((k) => k.publicJwk));
});
afterAll(async () => {
  await jwks?.close();
});
afterEach(() => {
  served = [k1];
  vi.useRealTimers();
});

/** A verifier over the loopback JWKS with its own cache and clock. */
function setup(options: { maxEntries?: number; cooldownMs?: string; now?: () => number } = {}) {
  const config = testConfig({ MCP_JWKS_URL: `${jwks.url}/jwks`, MCP_JWKS_COOLDOWN_MS: options.cooldownMs ?? '0' });
  const cache = new VerifiedTokenCache(options.maxEntries ?? 10_000, config.clockSkewS);
  const keys = createJwksResolver({ config });
  const verify = createTokenVerifier({ config, keys, now: options.now ?? Date.now, cache });
  return { cache, verify };
}

async function refusal(p: Promise<Principal>): Promise<BearerError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BearerError);
  return err as BearerError;
}

describe('verified-token cache', () => {
  cacheLifetimeTests();
  cacheAdmissionTests();
});

describe('JWKS fetches in steady state', () => {
  it('makes none over many authenticated tool calls (several tokens, several sessions)', async () => {
    const app = await testApp({ MCP_JWKS_URL: `${jwks.url}/jwks` });
    try {
      const tokens = await Promise.all(['alice', 'bob', 'carol'].map((sub) => mint(k1, { sub }, { kid: 'k1' })));
      const sessions = await Promise.all(tokens.map((t) => openSession(app, t)));
      const before = jwks.requests();
      for (let i = 0; i < 100; i++) {
        const n = i % tokens.length;
        const res = await app.inject({
          method: 'POST',
          url: '/mcp',
          headers: { ...MCP_HEADERS, authorization: `Bearer ${tokens[n]}`, 'mcp-session-id': sessions[n]! },
          payload: toolCall('whoami', {}, i),
        });
        expect(res.statusCode).toBe(200);
      }
      expect(jwks.requests() - before).toBe(0);
    } finally {
      await app.close();
    }
  });
});

/** What the cache answers, and when a cached answer ends: expiry, a key rotated out, a key replaced. */
function cacheLifetimeTests(): void {
  it('verifies a token once and answers repeats from the cache, without fetching the JWKS again', async () => {
    const { cache, verify } = setup();
    const token = await mint(k1, {}, { kid: 'k1' });
    const before = jwks.requests();
    const first = await verify(token);
    for (let i = 0; i < 50; i++) expect(await verify(token)).toBe(first);
    expect(jwks.requests() - before).toBe(1);
    expect(cache.size).toBe(1);
  });

  it('refuses a cached token once it expired (exp plus the clock skew, as the verifier counts it)', async () => {
    let nowMs = Date.now();
    const { cache, verify } = setup({ now: () => nowMs });
    const token = await mint(k1, {}, { kid: 'k1', expiresInS: 60 });
    await verify(token);
    expect(cache.size).toBe(1);
    const skewS = testConfig().clockSkewS;
    nowMs += (60 + skewS - 5) * 1000;
    await verify(token); // still inside exp + skew
    nowMs += 10 * 1000;
    const err = await refusal(verify(token));
    expect(err.code).toBe('invalid_token');
    expect(err.message).toBe('the access token expired');
    expect(cache.size).toBe(0);
  });

  it('refuses a cached token whose key was rotated out of the JWKS, once the JWKS was refetched', async () => {
    const { cache, verify } = setup();
    const old = await mint(k1, {}, { kid: 'k1' });
    await verify(old);
    served = [k2];
    // A token with the new key's kid makes the RS refetch the JWKS, which no longer has k1.
    const fresh = await mint(k2, {}, { kid: 'k2' });
    await verify(fresh);
    // k1's entry is gone; the k2 verification overlapped the refetch, so it is cached only from its next use.
    expect(cache.size).toBe(0);
    await verify(fresh);
    expect(cache.size).toBe(1);
    const err = await refusal(verify(old));
    expect(err.code).toBe('invalid_token');
    expect(err.message).toBe('the access token is signed with an unknown key');
  });

  it('refuses a cached token whose key was replaced under the same kid, once the stale JWKS is refetched', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { cache, verify } = setup();
    const old = await mint(k1, {}, { kid: 'k1', expiresInS: 3600 });
    await verify(old);
    served = [k1Replacement];
    // Within the JWKS max age the cache may answer; after it the JWKS is refetched before any cached answer.
    vi.setSystemTime(Date.now() + JWKS_MAX_AGE_MS + 1000);
    const err = await refusal(verify(old));
    expect(err.code).toBe('invalid_token');
    expect(cache.size).toBe(0);
    expect((await verify(await mint(k1Replacement, {}, { kid: 'k1' }))).sub).toBe('alice');
  });
}

/** What the cache never stores, and its size bound. */
function cacheAdmissionTests(): void {
  it('never caches a wrong-audience token', async () => {
    const { cache, verify } = setup();
    const token = await mint(k1, { aud: 'http://127.0.0.1:9/elsewhere' }, { kid: 'k1' });
    for (let i = 0; i < 3; i++) expect((await refusal(verify(token))).code).toBe('invalid_token');
    expect(cache.size).toBe(0);
  });

  it('never caches a token that is not valid yet (nbf in the future)', async () => {
    const { cache, verify } = setup();
    const token = await mint(k1, { nbf: Math.floor(Date.now() / 1000) + 3600 }, { kid: 'k1' });
    expect((await refusal(verify(token))).code).toBe('invalid_token');
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries tokens, evicting the oldest', async () => {
    const { cache, verify } = setup({ maxEntries: 3 });
    const tokens = await Promise.all([1, 2, 3, 4, 5].map((i) => mint(k1, { sub: `user-${i}` }, { kid: 'k1' })));
    for (const t of tokens) await verify(t);
    expect(cache.size).toBe(3);
    const nowS = Math.floor(Date.now() / 1000);
    expect(cache.get(tokens[0]!, nowS)).toBeUndefined();
    expect(cache.get(tokens[4]!, nowS)?.sub).toBe('user-5');
  });

  it('does not store a verification that raced with a key removal', () => {
    const cache = new VerifiedTokenCache(10, 0);
    const principal: Principal = { iss: 'i', sub: 's', aud: ['a'], permissions: [], exp: 2_000_000_000 };
    const generation = cache.generation;
    cache.dropKeys(new Set(['k1']));
    cache.set('token', { principal, kid: 'k1', nbf: undefined }, generation);
    expect(cache.size).toBe(0);
  });

  it('is off with maxEntries 0', async () => {
    const { cache, verify } = setup({ maxEntries: 0 });
    await verify(await mint(k1, {}, { kid: 'k1' }));
    expect(cache.size).toBe(0);
  });
}
