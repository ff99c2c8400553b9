/**
 * The warm path end to end: the CLI (subprocess, --json) against the real embedded IdP and RS. A stored token
 * for exactly this resource goes straight to initialize; a token the RS refuses leads to full discovery; a token
 * for another resource is never sent.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, toolText } from '@mcp-lab/test-kit/cli';
import { embeddedCliSuite } from '@mcp-lab/test-kit/cli-suite';

const suite = embeddedCliSuite('mcp-lab-client-warm-it-');
const { cli } = suite;
let issuer: string;
let rsOrigin: string;
beforeAll(() => ({ issuer, rsOrigin } = suite));

interface StoreFile {
  tokens: { resource: string; access_token: string; issuer: string; client_id: string }[];
}
const storeFile = () => join(suite.store, 'store.json');
const readStore = async () => JSON.parse(await readFile(storeFile(), 'utf8')) as StoreFile;

const LOGIN = ['--login', 'alice:alice-password'];

describe('warm path against the embedded IdP and the RS', () => {
  it('a second run sends the stored token straight to initialize: no probe, no discovery, only MCP requests', async () => {
    const first = await cli('tools', `${rsOrigin}/mcp`, ...LOGIN);
    expect(first.code, first.stderr).toBe(0);
    const warm = await cli('call', `${rsOrigin}/mcp`, 'whoami');
    expect(warm.code, warm.stderr).toBe(0);
    expect(warm.steps).toEqual(['stored-token', 'initialize', 'tools-call']);
    expect(warm.events[0]?.data).toMatchObject({ source: 'store', issuer, resource: `${rsOrigin}/mcp`, discovery: 'skipped' });
    for (const h of warm.events.flatMap((e) => e.http)) expect(h.url).toBe(`${rsOrigin}/mcp`);
    // No optional GET stream on Streamable HTTP.
    expect(warm.events.flatMap((e) => e.http).map((h) => h.method)).toEqual(['POST', 'POST', 'POST']);
    expect(JSON.parse(toolText(warm))).toMatchObject({ iss: issuer, aud: [`${rsOrigin}/mcp`] });
  });

  it('a repeat connect says it used the stored token; --fresh walks discovery and authorization again', async () => {
    expect((await cli('connect', `${rsOrigin}/mcp`, ...LOGIN)).code).toBe(0);
    const warm = await cli('connect', `${rsOrigin}/mcp`);
    expect(warm.code, warm.stderr).toBe(0);
    expect(warm.steps).toEqual(['stored-token', 'initialize', 'tools-list']);
    expect(warm.stderr).toContain(`used the stored token for ${rsOrigin}/mcp (probe, discovery and authorization skipped); to watch it again: mcp-lab-client connect ${rsOrigin}/mcp --fresh`);
    const stored = (await readStore()).tokens[0]?.access_token;
    const fresh = await cli('connect', `${rsOrigin}/mcp`, ...LOGIN, '--fresh');
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.steps).toEqual(['probe', 'resource-metadata', 'as-metadata', 'registration', 'authorize', 'callback', 'token', 'initialize', 'tools-list']);
    expect(fresh.stderr).not.toContain('used the stored token');
    const after = await readStore();
    expect(after.tokens).toHaveLength(1);
    expect(after.tokens[0]?.access_token).not.toBe(stored);
  });

  it('a stored token the RS refuses (401) leads to full discovery, then refresh', async () => {
    expect((await cli('tools', `${rsOrigin}/mcp`, ...LOGIN)).code).toBe(0);
    const data = await readStore();
    data.tokens = data.tokens.map((t) => ({ ...t, access_token: 'not-a-token-the-rs-accepts' }));
    await writeFile(storeFile(), JSON.stringify(data), { mode: 0o600 });
    const run = await cli('tools', `${rsOrigin}/mcp`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.steps).toEqual(['stored-token', 'initialize:fail', 'resource-metadata', 'as-metadata', 'registration', 'refresh', 'initialize', 'tools-list']);
    expect(run.events[1]?.data.next).toBe('discovery');
    expect(run.events[1]?.http[0]).toMatchObject({ status: 401 });
    expect(run.events[1]?.http[0]?.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('a token issued for /mcp is not sent to /sse', async () => {
    expect((await cli('tools', `${rsOrigin}/mcp`, ...LOGIN)).code).toBe(0);
    const mcpToken = (await readStore()).tokens[0]?.access_token ?? '';
    const run = await cli('tools', `${rsOrigin}/sse`, '--transport', 'sse', ...LOGIN);
    expect(run.code, run.stderr).toBe(0);
    expect(run.steps.slice(0, 4)).toEqual(['probe', 'resource-metadata', 'as-metadata', 'registration']);
    expect(run.steps).toContain('authorize');
    const sent = run.events.flatMap((e) => e.http).map((h) => h.headers.authorization).filter((a) => a !== undefined);
    const resources = (await readStore()).tokens.map((t) => t.resource).sort();
    expect(resources).toEqual([`${rsOrigin}/mcp`, `${rsOrigin}/sse`]);
    const sseToken = (await readStore()).tokens.find((t) => t.resource === `${rsOrigin}/sse`)?.access_token ?? '';
    expect(sseToken).not.toBe(mcpToken);
    // The --json output shows credentials cut to 6 characters: every bearer sent was the new /sse token.
    expect(sent.length).toBeGreaterThan(0);
    for (const a of sent) expect(a).toBe(`Bearer ${sseToken.slice(0, 6)}…`);
  });

  it('the installed entry point (bin.mjs, the bundle when built) takes the same warm path', async () => {
    expect((await cli('tools', `${rsOrigin}/mcp`, ...LOGIN)).code).toBe(0);
    const out = await runCli(['call', `${rsOrigin}/mcp`, 'whoami', '--store', suite.store], {}, { entry: 'bin.mjs' });
    expect(out.code, out.stderr).toBe(0);
    const steps = out.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { step: string }).step);
    expect(steps).toEqual(['stored-token', 'initialize', 'tools-call']);
  });
});
