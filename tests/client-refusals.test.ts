/**
 * End-to-end refusals of mcp-lab-client (the CLI as a subprocess with --json) against a hostile lab on loopback
 * (test-kit/src/hostile-lab.ts): each misbehaviour of the resource or authorization server is its own test,
 * which checks the exit code, the message on stderr, the failed step, and — from what the hostile servers
 * recorded — that nothing was sent that should not have been: no authorization request after a discovery
 * refusal, no token request after a callback refusal, never a bearer token, nothing off the machine, no token stored.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '@mcp-lab/test-kit/cli';
import { startHostileLab, type HostileLab, type HostileSwitches, type RecordedRequest } from '@mcp-lab/test-kit/hostile-lab';

const DISCOVERY = ['probe', 'resource-metadata', 'as-metadata', 'registration'];

let lab: HostileLab | undefined;
let store: string;

beforeEach(async () => {
  store = await mkdtemp(join(tmpdir(), 'mcp-lab-refusals-'));
});
afterEach(async () => {
  await lab?.close();
  lab = undefined;
  await rm(store, { recursive: true, force: true });
});

async function connect(switches: HostileSwitches): Promise<{ lab: HostileLab; run: CliRun }> {
  const started = await startHostileLab(switches);
  lab = started;
  const run = await runCli(['connect', started.mcpUrl, '--login', 'a:b', '--store', store], started.clientEnv);
  return { lab: started, run };
}

const authorizationRequests = (l: HostileLab): RecordedRequest[] => l.requestsTo('as').filter((r) => r.path === '/authorize');
const tokenRequests = (l: HostileLab): RecordedRequest[] => l.requestsTo('as').filter((r) => r.url.startsWith(l.tokenEndpoint));

/** The store file's content, or undefined when the CLI never wrote one. */
async function storeFile(): Promise<{ tokens: unknown[]; registrations: { issuer: string }[] } | undefined> {
  const files = await readdir(store);
  if (files.length === 0) return undefined;
  expect(files).toEqual(['store.json']);
  return JSON.parse(await readFile(join(store, 'store.json'), 'utf8')) as { tokens: unknown[]; registrations: { issuer: string }[] };
}

/**
 * What every refusal has in common: exit 1, `error: step "<step>" failed: <reason>` and a hint on stderr, the
 * last JSON line the failed step with the failing check, no bearer token sent anywhere, no request off the
 * machine, no authorization code used anywhere, no token minted or stored.
 */
async function expectRefusal(l: HostileLab, run: CliRun, step: string, check: string, reason: string): Promise<void> {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toContain(`error: step "${step}" failed: ${check}: ${reason}`);
  expect(run.stderr).toMatch(/^hint: \S/m);
  const last = run.events.at(-1);
  expect(last).toMatchObject({ step, status: 'fail' });
  expect(last?.checks.at(-1)).toEqual({ name: check, ok: false, detail: reason });
  expect(String(last?.data.error)).toBe(`${check}: ${reason}`);

  for (const r of l.requests) expect(r.headers.authorization, `${r.method} ${r.url}`).toBeUndefined();
  expect(l.requestsTo('egress')).toEqual([]);
  expect(tokenRequests(l)).toEqual([]);
  expect(l.tokens).toEqual([]);
  for (const code of l.codes) {
    for (const r of l.requests) expect(`${r.url} ${r.body}`).not.toContain(code);
    expect(run.stdout + run.stderr).not.toContain(code);
  }
  expect((await storeFile())?.tokens ?? []).toEqual([]);
}

/** Discovery refusals stop before registration and authorization: the store stays untouched. */
async function expectNoAuthorization(l: HostileLab): Promise<void> {
  expect(authorizationRequests(l)).toEqual([]);
  expect(l.requestsTo('as').filter((r) => r.method !== 'GET' || !r.path.startsWith('/.well-known/'))).toEqual([]);
  expect(l.codes).toEqual([]);
  expect(await readdir(store)).toEqual([]);
}

/** Callback refusals: one authorization request went to the hostile AS; its answer went no further. */
async function expectCodeDiscarded(l: HostileLab, run: CliRun): Promise<void> {
  expect(run.steps).toEqual([...DISCOVERY, 'authorize', 'callback:fail']);
  const [authorization, ...more] = authorizationRequests(l);
  expect(more).toEqual([]);
  const q = new URL(authorization?.url ?? 'http://invalid').searchParams;
  expect(q.get('code_challenge_method')).toBe('S256');
  expect(q.get('resource')).toBe(l.mcpUrl);
  expect(l.codes).toHaveLength(1);
  // After the redirect, the client contacted nobody: the authorization request is the last request recorded.
  expect(l.requests.at(-1)).toBe(authorization);
  // The dynamic registration is kept (it is not a credential of the user); no token is.
  const file = await storeFile();
  expect(file?.registrations.map((r) => r.issuer)).toEqual([l.issuer]);
  expect(file?.tokens).toEqual([]);
}

describe('mcp-lab-client against a hostile lab', () => {
  honestLabAndAuthorizationResponseTests();
  metadataRefusalTests();
});

function honestLabAndAuthorizationResponseTests(): void {
  it('control: an honest lab (no switches) completes the sequence, and the bearer goes only to the RS', async () => {
    const { lab: l, run } = await connect({});
    expect(run.code, run.stderr).toBe(0);
    expect(run.steps).toEqual([...DISCOVERY, 'authorize', 'callback', 'token', 'initialize', 'tools-list']);
    expect(run.events.find((e) => e.step === 'callback')?.checks.filter((c) => !c.ok)).toEqual([]);

    const [tokenRequest, ...moreTokenRequests] = tokenRequests(l);
    expect(moreTokenRequests).toEqual([]);
    const form = new URLSearchParams(tokenRequest?.body);
    expect(form.get('code')).toBe(l.codes[0]);
    expect(form.get('code_verifier')).toMatch(/^[\w-]{43,128}$/);
    expect(form.get('resource')).toBe(l.mcpUrl);

    const [token] = l.tokens;
    expect(l.tokens).toHaveLength(1);
    const withAuthorization = l.requests.filter((r) => r.headers.authorization !== undefined);
    expect(withAuthorization.length).toBeGreaterThan(0);
    for (const r of withAuthorization) {
      expect(r.server).toBe('rs');
      expect(r.path).toBe('/mcp');
      expect(r.headers.authorization).toBe(`Bearer ${token}`);
    }
    expect(l.requestsTo('egress')).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain(token);
    expect((await storeFile())?.tokens).toHaveLength(1);
  });

  it('refuses an authorization response whose state differs from the request (stateMismatch)', async () => {
    const { lab: l, run } = await connect({ stateMismatch: true });
    await expectRefusal(l, run, 'callback', 'state matches', 'differs from the state sent');
    await expectCodeDiscarded(l, run);
  });

  it('refuses an authorization response whose iss names another authorization server (issMismatch)', async () => {
    const { lab: l, run } = await connect({ issMismatch: true });
    await expectRefusal(l, run, 'callback', 'iss matches the recorded issuer (RFC 9207)', `iss "${l.otherIssuer}", expected "${l.issuer}"`);
    await expectCodeDiscarded(l, run);
  });

  it('refuses authorization server metadata whose issuer differs from the issuer it was fetched for (issuerMismatch)', async () => {
    const { lab: l, run } = await connect({ issuerMismatch: true });
    await expectRefusal(
      l, run, 'as-metadata', 'issuer identical to the one the resource named',
      `metadata issuer "${l.otherIssuer}", expected "${l.issuer}"`,
    );
    expect(run.steps).toEqual(['probe', 'resource-metadata', 'as-metadata:fail']);
    await expectNoAuthorization(l);
  });
}

function metadataRefusalTests(): void {
  it('refuses protected resource metadata whose resource is another resource (resourceMismatch)', async () => {
    const { lab: l, run } = await connect({ resourceMismatch: true });
    await expectRefusal(
      l, run, 'resource-metadata', 'resource is identical to the expected resource identifier',
      `resource ${l.otherResource}; expected ${l.mcpUrl} (the URL requested, since the challenge named this document)`,
    );
    expect(run.steps).toEqual(['probe', 'resource-metadata:fail']);
    // The authorization server the document names is not even asked for its metadata.
    expect(l.requestsTo('as')).toEqual([]);
    await expectNoAuthorization(l);
  });

  it('refuses an authorization server that offers only plain PKCE (noS256: plain)', async () => {
    const { lab: l, run } = await connect({ noS256: 'plain' });
    await expectRefusal(l, run, 'as-metadata', 'PKCE S256 supported', 'code_challenge_methods_supported: plain');
    expect(run.steps).toEqual(['probe', 'resource-metadata', 'as-metadata:fail']);
    await expectNoAuthorization(l);
  });

  it('refuses an authorization server that advertises no PKCE method (noS256: absent)', async () => {
    const { lab: l, run } = await connect({ noS256: 'absent' });
    await expectRefusal(l, run, 'as-metadata', 'PKCE S256 supported', 'code_challenge_methods_supported absent');
    expect(run.steps).toEqual(['probe', 'resource-metadata', 'as-metadata:fail']);
    await expectNoAuthorization(l);
  });

  it('refuses a plain-http, non-loopback authorization endpoint before contacting it (httpAuthorizationEndpoint)', async () => {
    const { lab: l, run } = await connect({ httpAuthorizationEndpoint: true });
    await expectRefusal(l, run, 'as-metadata', 'authorization_endpoint is https (or loopback)', l.authorizationEndpoint);
    expect(run.steps).toEqual(['probe', 'resource-metadata', 'as-metadata:fail']);
    await expectNoAuthorization(l);
    // Neither the sinkhole (checked above) nor the client's own record of its requests saw the hostile host.
    expect(run.events.flatMap((e) => e.http.map((h) => h.url)).filter((u) => u.includes('evil.example'))).toEqual([]);
  });
}
