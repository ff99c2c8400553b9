/**
 * The refresh race against `single-use-refresh` (rotation with reuse detection, RFC 9700 §4.14.2) on the embedded
 * IdP: two CLI processes sharing one token store start together with an expired access token. With the store's
 * refresh lock one refreshes and the other finds the new token after the lock; the family survives. Without it
 * (the test-only switch MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK) both send the same refresh token, the layer sees a
 * reuse and revokes the family.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Lab } from '@mcp-lab/launcher';
import type { CliRun } from '@mcp-lab/test-kit/cli';
import { ageStoredTokens, cleanUp, connect, event, newStore, quirkLab, refreshFamilies, toolSucceeded } from './quirks-lab.ts';

afterAll(cleanUp);

/** A lab with one stored, expired token (and its refresh token), then two processes started together. */
async function race(env: Readonly<Record<string, string>>): Promise<{ lab: Lab; runs: CliRun[] }> {
  const lab = await quirkLab('embedded', ['single-use-refresh']);
  const store = await newStore();
  toolSucceeded(await connect(lab, store));
  await ageStoredTokens(store);
  const runs = await Promise.all([connect(lab, store, [], env), connect(lab, store, [], env)]);
  return { lab, runs };
}

describe('refresh race against single-use-refresh', () => {
  it('with the lock: both processes call the tool, one refresh is sent and the family is not revoked', async () => {
    const { lab, runs } = await race({});
    for (const run of runs) toolSucceeded(run);
    const sources = runs.map((r) => event(r, 'refresh').data.source).sort();
    expect(sources).toEqual(['refresh', 'store-after-lock']);
    const waited = runs.map((r) => event(r, 'refresh')).find((e) => e.data.source === 'store-after-lock');
    expect(waited?.checks).toContainEqual({ name: 'refreshed by another process', ok: true, detail: 'the store holds a newer token; no refresh request sent' });
    for (const run of runs) expect(run.steps).not.toContain('authorize');
    expect(await refreshFamilies(lab)).toMatchObject({ refreshes: 1, reuseDetected: 0, revoked: 0 });
  });

  it('without the lock (test switch): the same refresh token is sent twice and the family is revoked', async () => {
    const { lab, runs } = await race({ MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK: 'true' });
    const failed = runs.flatMap((r) => r.events.filter((e) => e.step === 'refresh' && e.status === 'fail'));
    expect(failed, runs.map((r) => r.steps.join(' ')).join('\n')).toHaveLength(1);
    expect(String(failed[0]?.data.error)).toContain('refresh token reuse detected; the token family is revoked');
    expect(failed[0]?.checks).toContainEqual({ name: 'refresh lock held', ok: true, detail: 'OFF (test switch MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK)' });
    expect(await refreshFamilies(lab)).toMatchObject({ reuseDetected: 1, revoked: 1 });
  });
});
