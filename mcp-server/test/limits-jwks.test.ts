/**
 * The JWKS key source through an IdP outage and under unknown-kid abuse: a stale window (logged), negative
 * caching of failures and missing kids, single-flight refreshes bounded by the timeout, and an immediate refresh
 * for a kid never seen. The IdP is a fake fetch answering real Response objects; time is an injected clock.
 */
import { BearerError } from '@mcp-lab/protocol';
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJwksResolver } from '../src/auth/jwks.ts';
import { createTokenVerifier } from '../src/auth/verify-token.ts';
import type { Principal } from '../src/auth/principal.ts';
import { makeKeys, mint, testConfig } from './helpers.ts';
import type { Keys } from './helpers.ts';

let k1: Keys;
let k2: Keys;

beforeAll(async () => {
  k1 = await makeKeys('k1');
  k2 = await makeKeys('k2');
});

type Mode = 'up' | 'down' | 'hang' | 'garbage';

/** A fake IdP JWKS endpoint, a clock, a log, and a verifier over a fresh resolver. */
function setup(env: Record<string, string> = {}) {
  const idp = { mode: 'up' as Mode, keys: [] as JWK[], calls: 0 };
  const fetchImpl: typeof fetch = async (_input, init) => {
    idp.calls++;
    switch (idp.mode) {
      case 'up':
        return Response.json({ keys: idp.keys });
      case 'garbage':
        return Response.json({ not: 'a key set' });
      case 'down':
        throw new TypeError('fetch failed');
      case 'hang':
        return new Promise<Response>((_resolve, reject) => {
          const signal = init?.signal;
          signal?.addEventListener('abort', () => reject(signal.reason));
        });
    }
  };
  const clock = { t: Date.now() };
  const logs: Array<{ level: string; msg: string }> = [];
  const log = {
    warn: (_obj: object, msg: string) => logs.push({ level: 'warn', msg }),
    info: (_obj: object, msg: string) => logs.push({ level: 'info', msg }),
  };
  const config = testConfig({
    MCP_JWKS_URL: 'http://127.0.0.1:4999/jwks',
    MCP_JWKS_TIMEOUT_MS: '200',
    MCP_JWKS_COOLDOWN_MS: '1000',
    MCP_JWKS_MAX_AGE_MS: '600000',
    MCP_JWKS_MAX_STALE_MS: '3600000',
    MCP_JWKS_RETRY_MS: '10000',
    ...env,
  });
  const keys = createJwksResolver({ config, fetch: fetchImpl, now: () => clock.t, log });
  const verify = createTokenVerifier({ config, keys, now: () => clock.t });
  // Tokens valid for two hours of the injected clock.
  const token = (k: Keys, kid: string) => {
    const s = Math.floor(clock.t / 1000);
    return mint(k, { iat: s, exp: s + 7_200 }, { kid });
  };
  return { idp, clock, logs, verify, token, keys };
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
    const { idp, clock, logs, verify, token } = setup();
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
    const { idp, clock, verify, token } = setup();
    idp.keys = [k1.publicJwk];
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('ok');
    idp.mode = 'down';
    clock.t += 600_000 + 3_600_001;
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('503 temporarily_unavailable');
  });

  it('tries the IdP once per MCP_JWKS_RETRY_MS while it is down, however many requests come (negative caching)', async () => {
    const { idp, clock, verify, token } = setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    idp.mode = 'down';
    clock.t += 600_001;
    const before = idp.calls;
    const t1 = await token(k1, 'k1');
    for (let i = 0; i < 100; i++) expect(await outcome(verify(t1))).toBe('ok');
    expect(idp.calls - before).toBe(1);
    clock.t += 10_000;
    await verify(t1);
    expect(idp.calls - before).toBe(2);
  });

  it('keeps the last good key set when a refresh returns something that is not a key set', async () => {
    const { idp, clock, verify, token } = setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    idp.mode = 'garbage';
    clock.t += 600_001;
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('ok');
  });

  it('goes back to fresh keys once the IdP answers again after the retry window, and logs the recovery', async () => {
    const { idp, clock, logs, verify, token, keys } = setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    idp.mode = 'down';
    clock.t += 600_001;
    await verify(await token(k1, 'k1'));
    expect(keys.fresh()).toBe(false);
    idp.mode = 'up';
    clock.t += 10_000;
    await verify(await token(k1, 'k1'));
    expect(keys.fresh()).toBe(true);
    expect(logs.at(-1)).toEqual({ level: 'info', msg: 'JWKS refreshed' });
  });
});

describe('JWKS: a hanging IdP', () => {
  it('costs one timeout per window: concurrent requests share the one refresh, later ones do not wait', async () => {
    const { idp, clock, verify, token } = setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    idp.mode = 'hang';
    clock.t += 600_001;
    const t1 = await token(k1, 'k1');
    const before = idp.calls;
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 50 }, () => outcome(verify(t1))));
    const elapsed = performance.now() - started;
    expect(results.every((r) => r === 'ok')).toBe(true);
    expect(idp.calls - before).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(200 + 300);
    const again = performance.now();
    expect(await outcome(verify(t1))).toBe('ok');
    expect(performance.now() - again).toBeLessThan(100);
  });

  it('once the outage is noticed, later retries run in the background: requests after the retry window do not wait', async () => {
    const { idp, clock, verify, token } = setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    idp.mode = 'hang';
    clock.t += 600_001;
    const t1 = await token(k1, 'k1');
    expect(await outcome(verify(t1))).toBe('ok');
    const before = idp.calls;
    clock.t += 10_000;
    const started = performance.now();
    expect(await outcome(verify(t1))).toBe('ok');
    expect(performance.now() - started).toBeLessThan(100);
    // The retry was made, in the background.
    expect(idp.calls - before).toBe(1);
  });

  it('without any key set yet answers 503 within the timeout, then at once for the rest of the window', async () => {
    const { idp, verify, token } = setup();
    idp.mode = 'hang';
    const t1 = await token(k1, 'k1');
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => outcome(verify(t1))));
    expect(results.every((r) => r === '503 temporarily_unavailable')).toBe(true);
    expect(performance.now() - started).toBeLessThan(200 + 300);
    expect(idp.calls).toBe(1);
    const again = performance.now();
    expect(await outcome(verify(t1))).toBe('503 temporarily_unavailable');
    expect(performance.now() - again).toBeLessThan(50);
    expect(idp.calls).toBe(1);
  });
});

describe('JWKS: unknown kids', () => {
  it('accepts a key published and used at once, right after a refresh, even with a 30 s cooldown', async () => {
    const { idp, verify, token } = setup({ MCP_JWKS_COOLDOWN_MS: '30000' });
    idp.keys = [k1.publicJwk];
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('ok');
    idp.keys = [k1.publicJwk, k2.publicJwk];
    expect(await outcome(verify(await token(k2, 'k2')))).toBe('ok');
    expect(idp.calls).toBe(2);
  });

  it('refreshes at most once per MCP_JWKS_COOLDOWN_MS for 200 requests with never-seen kids (401 each)', async () => {
    const { idp, clock, verify, token } = setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    const before = idp.calls;
    for (let i = 0; i < 200; i++) expect(await outcome(verify(await token(k2, `bogus-${i}`)))).toBe('401 invalid_token');
    expect(idp.calls - before).toBe(1);
    clock.t += 1_000;
    await outcome(verify(await token(k2, 'bogus-after-cooldown')));
    expect(idp.calls - before).toBe(2);
  });

  it('remembers a kid missing from a fresh key set: no refresh for it again within MCP_JWKS_RETRY_MS', async () => {
    const { idp, clock, verify, token } = setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    const bogus = await token(k2, 'never');
    expect(await outcome(verify(bogus))).toBe('401 invalid_token');
    const before = idp.calls;
    clock.t += 2_000;
    expect(await outcome(verify(bogus))).toBe('401 invalid_token');
    expect(idp.calls).toBe(before);
    // Another never-seen kid still gets its immediate refresh.
    expect(await outcome(verify(await token(k2, 'other')))).toBe('401 invalid_token');
    expect(idp.calls).toBe(before + 1);
  });

  it('answers 503, not 401, for an unknown kid while the IdP is down (it may be a new key)', async () => {
    const { idp, verify, token } = setup();
    idp.keys = [k1.publicJwk];
    await verify(await token(k1, 'k1'));
    idp.mode = 'down';
    expect(await outcome(verify(await token(k2, 'k2')))).toBe('503 temporarily_unavailable');
    expect(await outcome(verify(await token(k2, 'k2')))).toBe('503 temporarily_unavailable');
    // Known keys keep working meanwhile.
    expect(await outcome(verify(await token(k1, 'k1')))).toBe('ok');
  });
});
