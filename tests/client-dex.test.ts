/**
 * The CLI (`--json`, a subprocess) against real Dex behind authz-metadata and the RS, started by the launcher with
 * profiles/dex.json: the full sequence over Streamable HTTP, HTTP+SSE with a bearer and HTTP+SSE with the session
 * cookie, the static RFC 8414 document in the trace, the OpenID fallback without it, and a wrong password.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureSink, loadProfile, startLab, type Lab } from '@mcp-lab/launcher';
import { runCli, toolText, type CliRun } from '@mcp-lab/test-kit/cli';
import { requireDex } from './provisioned.ts';

const dexBin = requireDex();
const ready = dexBin !== undefined;
const profile = loadProfile('dex');
const [alice, bob] = profile.login.users;

const labs: Lab[] = [];
const stores: string[] = [];
const log = captureSink();

async function store(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-lab-client-dex-'));
  stores.push(dir);
  return dir;
}

async function lab(metadataEnabled: boolean): Promise<Lab> {
  const l = await startLab(profile, { metadataEnabled, ...(dexBin === undefined ? {} : { dexBin }), log: log.stream });
  labs.push(l);
  return l;
}

afterAll(async () => {
  await Promise.all(labs.map((l) => l.stop()));
  await Promise.all(stores.map((d) => rm(d, { recursive: true, force: true })));
});

function connect(l: Lab, dir: string, extra: readonly string[], user = alice): Promise<CliRun> {
  return runCli(['connect', ...extra, ...l.clientArgs, '--login', `${user!.username}:${user!.password}`, '--store', dir]);
}

function asMetadataUrls(run: CliRun): string[] {
  return run.events.filter((e) => e.step === 'as-metadata').flatMap((e) => e.http.map((h) => `${h.status} ${h.url}`));
}

describe.runIf(ready)('mcp-lab-client against Dex + authz-metadata + RS', () => {
  let withMetadata: Lab;
  beforeAll(async () => {
    withMetadata = await lab(true);
  }, 120_000);

  it('--transport http: finds Dex through the static RFC 8414 document and adds a note', async () => {
    const run = await connect(withMetadata, await store(), [`${withMetadata.rsUrl}/mcp`, '--call', 'notes_add', '--args', '{"text":"from dex over http"}']);
    expect(run.code, `${run.stderr}\n${log.text()}`).toBe(0);
    expect(asMetadataUrls(run)).toEqual([`200 ${new URL(withMetadata.issuer).origin}/.well-known/oauth-authorization-server/dex`]);
    const asm = run.events.find((e) => e.step === 'as-metadata');
    expect(asm?.checks.find((c) => c.name.startsWith('issuer identical'))?.ok).toBe(true);
    expect(run.events.find((e) => e.step === 'registration')?.data.method).not.toBe('dcr');
    const authorize = run.events.find((e) => e.step === 'authorize');
    const scope = new URL(String(authorize?.data.authorization_url)).searchParams.get('scope') ?? '';
    expect(scope.split(' ')).toContain('audience:server:client_id:mcp-lab-rs');
    expect(JSON.parse(toolText(run))).toMatchObject({ text: 'from dex over http' });
  });

  it('--transport sse with a bearer header: notes_add then notes_list', async () => {
    const dir = await store();
    const add = await connect(withMetadata, dir, [`${withMetadata.rsUrl}/sse`, '--transport', 'sse', '--call', 'notes_add', '--args', '{"text":"from dex over sse"}']);
    expect(add.code, add.stderr).toBe(0);
    const list = await runCli(['call', `${withMetadata.rsUrl}/sse`, 'notes_list', '--transport', 'sse', ...withMetadata.clientArgs, '--store', dir]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.steps).not.toContain('authorize');
    expect(toolText(list)).toContain('from dex over sse');
  });

  it('--transport sse --cookie: the MCP requests carry the session cookie, not the token', async () => {
    const run = await connect(withMetadata, await store(), [`${withMetadata.rsUrl}/sse`, '--transport', 'sse', '--cookie', '--call', 'whoami']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.steps).toContain('session');
    const mcp = run.events.filter((e) => e.step === 'initialize' || e.step === 'tools-call').flatMap((e) => e.http);
    expect(mcp.length).toBeGreaterThan(0);
    for (const h of mcp) {
      expect(h.headers.authorization, `${h.method} ${h.url}`).toBeUndefined();
      expect(h.headers.cookie, `${h.method} ${h.url}`).toBeDefined();
    }
    expect(JSON.parse(toolText(run))).toMatchObject({ iss: withMetadata.issuer, email: alice!.username });
  });

  it('bob does not see alice\'s notes', async () => {
    const own = await connect(withMetadata, await store(), [`${withMetadata.rsUrl}/mcp`, '--call', 'notes_add', '--args', '{"text":"alice only"}']);
    expect(own.code, own.stderr).toBe(0);
    const run = await connect(withMetadata, await store(), [`${withMetadata.rsUrl}/mcp`, '--call', 'notes_list'], bob);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(toolText(run))).toEqual([]);
  });

  it('a wrong password fails at the authorize step with a clear message', async () => {
    const run = await runCli(['connect', `${withMetadata.rsUrl}/mcp`, ...withMetadata.clientArgs, '--login', `${alice!.username}:wrong`, '--store', await store()]);
    expect(run.code).not.toBe(0);
    expect(run.steps).toContain('authorize:fail');
    expect(run.stderr).toMatch(/invalid credentials/);
    expect(run.steps).not.toContain('token');
  });

  it('with authz-metadata serving no document, falls back to Dex\'s OpenID discovery and still succeeds', async () => {
    const plain = await lab(false);
    const run = await connect(plain, await store(), [`${plain.rsUrl}/mcp`, '--call', 'whoami']);
    expect(run.code, run.stderr).toBe(0);
    const origin = new URL(plain.issuer).origin;
    expect(asMetadataUrls(run)).toEqual([
      `404 ${origin}/.well-known/oauth-authorization-server/dex`,
      `404 ${origin}/.well-known/openid-configuration/dex`,
      `200 ${origin}/dex/.well-known/openid-configuration`,
    ]);
    expect(JSON.parse(toolText(run))).toMatchObject({ iss: plain.issuer });
  }, 120_000);
});
