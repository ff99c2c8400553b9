/**
 * The RS unit tests' one setup, registered as the calling file's `beforeAll`/`afterAll`: a fresh signing key, a
 * loopback JWKS serving it, the RS built on it (in process, or listening on a loopback port), and named tokens
 * minted once. What it returns is read inside tests and hooks (its getters throw before `beforeAll` has run).
 */
import type { FastifyInstance } from 'fastify';
import type { JWTPayload } from 'jose';
import { afterAll, beforeAll } from 'vitest';
import type { AppDeps } from '../src/app.ts';
import { makeKeys, mint, startJwksServer, startListeningRs, testApp } from './helpers.ts';
import type { JwksServer, Keys, ListeningRs } from './helpers.ts';

export interface TestRs<T extends string> {
  readonly keys: Keys;
  readonly jwks: JwksServer;
  /** The RS, built with `testApp` (never listening). */
  readonly app: FastifyInstance;
  /** `MCP_JWKS_URL` for another RS a test builds on the same keys. */
  readonly jwksEnv: { readonly MCP_JWKS_URL: string };
  /** The named tokens, minted with `keys` from the claims given (over `mint`'s defaults). */
  readonly tokens: Readonly<Record<T, string>>;
}

export interface ListeningTestRs<T extends string> extends Omit<ListeningRs, 'close'> {
  readonly tokens: Readonly<Record<T, string>>;
}

/** Holds what `beforeAll` made; `get` throws when a test file reads it at load time instead. */
function readyOnce<V>(name: string): { set(v: V): void; get(): V; peek(): V | undefined } {
  let value: V | undefined;
  return {
    set: (v) => void (value = v),
    get() {
      if (value === undefined) throw new Error(`${name}: read before its beforeAll ran`);
      return value;
    },
    peek: () => value,
  };
}

/** `target` with a getter for each of `names`, reading it from `get()` (what `beforeAll` made) when read. */
function withReaders<V, K extends keyof V, X extends object>(target: X, get: () => V, names: readonly K[]): X & Pick<V, K> {
  for (const name of names) Object.defineProperty(target, name, { get: () => get()[name], enumerable: true });
  return target as X & Pick<V, K>;
}

async function mintAll<T extends string>(keys: Keys, claims: Record<T, JWTPayload>, into: Record<T, string>): Promise<void> {
  for (const name of Object.keys(claims) as T[]) into[name] = await mint(keys, claims[name]);
}

/**
 * An in-process RS (`testApp(env, deps)`) trusting a fresh key served by a real loopback JWKS, for the whole file.
 * @param tokens claims of the tokens to mint once, by name.
 */
export function useTestRs<T extends string = never>(
  env: Record<string, string> = {},
  options: { readonly deps?: AppDeps; readonly tokens?: Record<T, JWTPayload> } = {},
): TestRs<T> {
  const ready = readyOnce<{ keys: Keys; jwks: JwksServer; app: FastifyInstance }>('useTestRs');
  const tokens = {} as Record<T, string>;
  beforeAll(async () => {
    const keys = await makeKeys();
    const jwks = await startJwksServer(() => [keys.publicJwk]);
    const app = await testApp({ MCP_JWKS_URL: `${jwks.url}/jwks`, ...env }, options.deps);
    ready.set({ keys, jwks, app });
    if (options.tokens) await mintAll(keys, options.tokens, tokens);
  });
  afterAll(async () => {
    await ready.peek()?.app.close();
    await ready.peek()?.jwks.close();
  });
  const view = {
    get jwksEnv() {
      return { MCP_JWKS_URL: `${ready.get().jwks.url}/jwks` };
    },
    tokens,
  };
  return withReaders(view, ready.get, ['keys', 'jwks', 'app']);
}

/**
 * The RS listening on a free loopback port (`startListeningRs(env, deps)`), for the whole file.
 * @param tokens claims of the tokens to mint once, by name, given the RS's origin (for their `aud`).
 */
export function useListeningRs<T extends string = never>(
  env: Record<string, string> = {},
  options: { readonly deps?: AppDeps; readonly tokens?: (base: string) => Record<T, JWTPayload> } = {},
): ListeningTestRs<T> {
  const ready = readyOnce<ListeningRs>('useListeningRs');
  const tokens = {} as Record<T, string>;
  beforeAll(async () => {
    const rs = await startListeningRs(env, options.deps);
    ready.set(rs);
    if (options.tokens) await mintAll(rs.keys, options.tokens(rs.base), tokens);
  });
  afterAll(async () => {
    await ready.peek()?.close();
  });
  return withReaders({ tokens }, ready.get, ['keys', 'app', 'base']);
}
