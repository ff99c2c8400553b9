/**
 * The JWKS key source through an IdP outage and under unknown-kid abuse: a stale window (logged), negative
 * caching of failures and missing kids, single-flight refreshes bounded by the timeout, and an immediate refresh
 * for a kid never seen. The IdP is a real loopback JWKS endpoint the test steers (up, down, garbled, or holding its
 * answer until released); its fetches are counted, time is an injected clock, and nothing is timed.
 */
import { BearerError } from '@mcp-lab/protocol';
import type { JWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJwksResolver } from '../src/auth/jwks.ts';
import { createTokenVerifier } from '../src/auth/verify-token.ts';
import type { Principal } from '../src/auth/principal.ts';
import { makeKeys, mint, modernRequest, startJwksServer, testApp, testConfig } from './helpers.ts';
import type { JwksServer, Keys } from './helpers.ts';

let k1: Keys;
let k2: Keys;

beforeAll(async () => {
  k1 = await makeKeys('k1');
  k2 = await makeKeys('k2');
});

/** Every JWKS server and app a test started; closed after it. */
const opened: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

const JWKS_ENV = {
  MCP_JWKS_TIMEOUT_MS: '200',
  MCP_JWKS_COOLDOWN_MS: '1000',
  MCP_JWKS_MAX_AGE_MS: '600000',
  MCP_JWKS_MAX_STALE_MS: '3600000',
  MCP_JWKS_RETRY_MS: '10000',
};

/** The steerable loopback IdP JWKS (`./jwks-server.ts`), serving `idp.keys`; closed after the test. */
async function startIdp(): Promise<JwksServer & { keys: JWK[] }> {
  const idp: JwksServer & { keys: JWK[] } = Object.assign(await startJwksServer(() => idp.keys), { keys: [] as JWK[] });
  opened.push(idp);
  return idp;
}

/** Tokens valid for two hours of the injected clock. */
function tokenMinter(clock: { t: number }) {
  return (k: Keys, kid: string, claims: Record<string, unknown> = {}) => {
    const s = Math.floor(clock.t / 1000);
    return mint(k, { iat: s, exp: s + 7_200, ...claims }, { kid });
  };
}

/** The steerable IdP, a clock, a log, and a verifier over a fresh resolver fetching from the IdP. */
async function setup(env: Record<string, string> = {}) {
  const idp = await startIdp();
  const clock = { t: Date.now() };
  const logs: Array<{ level: string; msg: string }> = [];
  const log = {
    warn: (_obj: object, msg: string) => logs.push({ level: 'warn', msg }),
    info: (_obj: object, msg: string) => logs.push({ level: 'info', msg }),
  };
  const config = testConfig({ MCP_JWKS_URL: `${idp.url}/jwks`, ...JWKS_ENV, ...env });
  const keys = createJwksResolver({ config, now: () => clock.t, log });
  const verify = createTokenVerifier({ config, keys, now: () => clock.t });
  return { idp, clock, logs, verify, token: tokenMinter(clock), keys };
}

async function outcome(p: Promise<Principal>): Promise<'ok' | string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof BearerError) return `${err.status} ${err.code}`;
    throw err;
  }
}

describe('JWKS through an IdP outage', () => {
  it('keeps verifying with the last good key set past its max age while the IdP is down, and logs that it does', async () => {
    const { idp, clock, logs, verify, token } = await setup();
    idp.keys = [k1.publicJwk];
    const t1 = await token(k1, 'k1');
    expect(await outcome(verify(t1))).toBe('ok');
    idp.mode = 'down';
    clock.t += 600_001;
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('ok');
    expect(logs.map((l) => `${l.level}: ${l.msg}`)).toEqual([
      'warn: JWKS refresh failed; verifying with the last good key set',
      'warn: JWKS stale: verifying with the last good key set',
    ]);
  });

  it('answers 503 temporarily_unavailable once the key set is stale beyond MCP_JWKS_MAX_STALE_MS', async () => {
    const { idp, clock, verify, token } = await setup();
    idp.keys = [k1.publicJwk];
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('ok');
    idp.mode = 'down';
    clock.t += 600_000 + 3_600_001;
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('503 temporarily_unavailable');
  });

  it('tries the IdP once per MCP_JWKS_RETRY_MS while it is down, however many requests come (negative caching)', async () => {
    const { idp, clock, verify, token } = await setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    idp.mode = 'down';
    clock.t += 600_001;
    const before = idp.requests();
    const t1 = await token(k1, 'k1');
    for (let i = 0; i < 100; i++) expect(await outcome(verify(t1))).toBe('ok');
    expect(idp.requests() - before).toBe(1);
    clock.t += 10_000;
    // The retry runs behind the request (the outage is known); holding its answer shows that it was made.
    idp.mode = 'hold';
    expect(await outcome(verify(t1))).toBe('ok');
    (await idp.held(1)).release('down');
    expect(idp.requests() - before).toBe(2);
  });

  it('keeps the last good key set when a refresh returns something that is not a key set', async () => {
    const { idp, clock, verify, token } = await setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    idp.mode = 'garbage';
    clock.t += 600_001;
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('ok');
  });

  it('goes back to fresh keys once the IdP answers again after the retry window, and logs the recovery', async () => {
    const { idp, clock, logs, verify, token, keys } = await setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    idp.mode = 'down';
    clock.t += 600_001;
    await verify(await token(k1, 'k1'));
    expect(keys.fresh()).toBe(false);
    idp.mode = 'up';
    clock.t += 10_000;
    // The outage was noticed, so this request verifies with the last good set while the retry runs behind it.
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('ok');
    await vi.waitFor(() => expect(keys.fresh()).toBe(true));
    expect(logs.at(-1)).toEqual({ level: 'info', msg: 'JWKS refreshed' });
  });
});

/**
 * The whole RS (`app.inject`) in front of an IdP whose JWKS answer is held: what a client gets (200 from the last
 * good key set, or 503 with Retry-After) is asserted while the fetch is still held, and fetches are counted. With
 * MCP_JWKS_TIMEOUT_MS long, a request that waited on the held fetch could not resolve before the test releases it;
 * with it at 1 s, the RS must give up on the fetch by itself (the IdP never answers; how long that took is not
 * asserted). Time is the RS's injected clock.
 */
async function hangingIdpRs(timeoutMs: '1000' | '60000') {
  const idp = await startIdp();
  idp.keys = [k1.publicJwk];
  const clock = { t: Date.now() };
  const env = { ...JWKS_ENV, MCP_JWKS_URL: `${idp.url}/jwks`, MCP_JWKS_TIMEOUT_MS: timeoutMs, MCP_RATE_LIMIT_BURST: '1000' };
  const app = await testApp(env, { now: () => clock.t });
  opened.push(app);
  const token = await tokenMinter(clock)(k1, 'k1', { sub: 'alice' });
  /** A stateless 2026-07-28 whoami with the token: its status and Retry-After. */
  const call = async () => {
    const req = modernRequest('tools/call', { name: 'whoami', arguments: {} });
    const res = await app.inject({ method: 'POST', url: '/mcp', headers: { ...req.headers, authorization: `Bearer ${token}` }, payload: req.payload });
    return res.statusCode === 503 ? `503 retry-after=${String(res.headers['retry-after'])}` : String(res.statusCode);
  };
  /** One request verified while the IdP answers; then it holds its answers and the key set is past its max age. */
  const heldPastMaxAge = async () => {
    expect(await call()).toBe('200');
    idp.mode = 'hold';
    clock.t += 600_001;
  };
  return { idp, clock, call, heldPastMaxAge };
}

describe('JWKS: a hanging IdP (fetches counted and held, never timed)', () => {
  it('concurrent requests share the one refresh and wait for it the first time; none is answered before it', async () => {
    const { idp, call, heldPastMaxAge } = await hangingIdpRs('60000');
    await heldPastMaxAge();
    let answered = 0;
    const results = Array.from({ length: 50 }, () => call().finally(() => answered++));
    const refresh = await idp.held(1);
    expect(idp.requests()).toBe(2);
    expect(answered).toBe(0);
    refresh.release('keys');
    expect(await Promise.all(results)).toEqual(Array(50).fill('200'));
    expect(idp.requests()).toBe(2);
  });

  it('gives up on a fetch the IdP never answers after MCP_JWKS_TIMEOUT_MS: every waiting request gets the last good keys, later ones no fetch', async () => {
    const { idp, clock, call, heldPastMaxAge } = await hangingIdpRs('1000');
    await heldPastMaxAge();
    // Never released: only the RS's own timeout can end the wait.
    expect(await Promise.all(Array.from({ length: 50 }, call))).toEqual(Array(50).fill('200'));
    expect(idp.requests()).toBe(2);
    const refresh = await idp.held(1);
    await refresh.abandoned;
    // Within MCP_JWKS_RETRY_MS of the failure nothing is fetched, so there is nothing to wait on.
    clock.t += 9_999;
    expect(await call()).toBe('200');
    expect(idp.requests()).toBe(2);
  });

  it('once the outage is noticed, the retry after MCP_JWKS_RETRY_MS runs in the background: requests are answered while it is held', async () => {
    const { idp, clock, call, heldPastMaxAge } = await hangingIdpRs('60000');
    await heldPastMaxAge();
    const first = call();
    (await idp.held(1)).release('down');
    expect(await first).toBe('200');
    clock.t += 10_000;
    // Released only after this request was answered: had it waited on the retry, it would never be.
    expect(await call()).toBe('200');
    const retry = await idp.held(2);
    expect(retry.pending()).toBe(true);
    expect(idp.requests()).toBe(3);
    expect(await call()).toBe('200');
    expect(idp.requests()).toBe(3);
    retry.release('keys');
  });

  it('without any key set yet: 503 with Retry-After for every waiting request once the timeout gives up, then no fetch for the rest of the window', async () => {
    const { idp, clock, call } = await hangingIdpRs('1000');
    idp.mode = 'hold';
    expect(await Promise.all(Array.from({ length: 20 }, call))).toEqual(Array(20).fill('503 retry-after=5'));
    expect(idp.requests()).toBe(1);
    await (await idp.held(1)).abandoned;
    clock.t += 9_999;
    expect(await call()).toBe('503 retry-after=5');
    expect(idp.requests()).toBe(1);
    clock.t += 1;
    idp.mode = 'down';
    expect(await call()).toBe('503 retry-after=5');
    expect(idp.requests()).toBe(2);
  });
});

describe('JWKS: unknown kids', () => {
  it('accepts a key published and used at once, right after a refresh, even with a 30 s cooldown', async () => {
    const { idp, verify, token } = await setup({ MCP_JWKS_COOLDOWN_MS: '30000' });
    idp.keys = [k1.publicJwk];
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('ok');
    idp.keys = [k1.publicJwk, k2.publicJwk];
    expect(await outcome(verify(await token(k2, 'k2')))).toBe('ok');
    expect(idp.requests()).toBe(2);
  });

  it('refreshes at most once per MCP_JWKS_COOLDOWN_MS for 200 requests with never-seen kids (401 each)', async () => {
    const { idp, clock, verify, token } = await setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    const before = idp.requests();
    for (let i = 0; i < 200; i++) expect(await outcome(verify(await token(k2, `bogus-${i}`)))).toBe('401 invalid_token');
    expect(idp.requests() - before).toBe(1);
    clock.t += 999;
    expect(await outcome(verify(await token(k2, 'bogus-within-cooldown')))).toBe('401 invalid_token');
    expect(idp.requests() - before).toBe(1);
    clock.t += 1;
    await outcome(verify(await token(k2, 'bogus-after-cooldown')));
    expect(idp.requests() - before).toBe(2);
  });

  it('remembers a kid missing from a fresh key set: no refresh for it again within MCP_JWKS_RETRY_MS', async () => {
    const { idp, clock, verify, token } = await setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    const bogus = await token(k2, 'never');
    expect(await outcome(verify(bogus))).toBe('401 invalid_token');
    const before = idp.requests();
    clock.t += 2_000;
    expect(await outcome(verify(bogus))).toBe('401 invalid_token');
    expect(idp.requests()).toBe(before);
    // Another never-seen kid still gets its immediate refresh.
    expect(await outcome(verify(await token(k2, 'other')))).toBe('401 invalid_token');
    expect(idp.requests()).toBe(before + 1);
  });

  it('answers 503, not 401, for an unknown kid while the IdP is down (it may be a new key)', async () => {
    const { idp, verify, token } = await setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    idp.mode = 'down';
    expect(await outcome(verify(await token(k2, 'k2')))).toBe('503 temporarily_unavailable');
    expect(await outcome(verify(await token(k2, 'k2')))).toBe('503 temporarily_unavailable');
    // Known keys keep working meanwhile.
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('ok');
  });
});
