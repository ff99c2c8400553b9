/**
 * The CLI as a subprocess (--json) against the real embedded IdP and resource server on free loopback ports.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { embeddedCliSuite } from '@mcp-lab/test-kit/cli-suite';
import { toolText } from '@mcp-lab/test-kit/cli';

const suite = embeddedCliSuite('mcp-lab-client-it-');
const { cli } = suite;
let issuer: string;
let rsOrigin: string;
beforeAll(() => ({ issuer, rsOrigin } = suite));

const LOGIN = ['--login', 'alice:alice-password'];
const DISCOVERY = ['probe', 'resource-metadata', 'as-metadata', 'registration'];
const AUTHORIZATION = ['authorize', 'callback', 'token'];


describe('mcp-lab-client against the embedded IdP and the RS', () => {
  transportTests();
  storedTokenAndClientTests();
});

function transportTests(): void {
  it('--transport http: the full sequence, then whoami with a token for the /mcp resource', async () => {
    const run = await cli('connect', `${rsOrigin}/mcp`, ...LOGIN, '--call', 'whoami');
    expect(run.code, run.stderr).toBe(0);
    expect(run.steps).toEqual([...DISCOVERY, ...AUTHORIZATION, 'initialize', 'tools-list', 'tools-call']);
    const tools = run.events.find((e) => e.step === 'tools-list')?.data.tools as { name: string }[];
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['whoami', 'notes_list', 'notes_add', 'notes_delete']));
    const who = JSON.parse(toolText(run)) as { iss: string; aud: string | string[]; permissions: string[] };
    expect(who.iss).toBe(issuer);
    expect([who.aud].flat()).toContain(`${rsOrigin}/mcp`);
    expect(who.permissions).toContain('notes:read');
    const reg = run.events.find((e) => e.step === 'registration');
    expect(reg?.data.method).toBe('dcr');
    const authorize = run.events.find((e) => e.step === 'authorize');
    const url = new URL(String(authorize?.data.authorization_url));
    expect(url.searchParams.get('resource')).toBe(`${rsOrigin}/mcp`);
    expect(url.searchParams.get('scope')).toBe('notes:read offline_access');
    const callback = run.events.find((e) => e.step === 'callback');
    expect(callback?.checks.find((c) => c.name.startsWith('iss matches'))?.ok).toBe(true);
    // Tokens are never printed: no JWT (header.payload.signature) anywhere in the output.
    expect(run.stdout + run.stderr).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    expect(run.events.find((e) => e.step === 'token')?.data.access_token).toMatch(/^.{6}…$/);
  });

  it('--transport sse: the same sequence over HTTP+SSE', async () => {
    const run = await cli('connect', `${rsOrigin}/sse`, '--transport', 'sse', ...LOGIN, '--call', 'notes_list');
    expect(run.code, run.stderr).toBe(0);
    expect(run.steps).toEqual([...DISCOVERY, ...AUTHORIZATION, 'initialize', 'tools-list', 'tools-call']);
    expect(JSON.parse(toolText(run))).toEqual([]);
    expect(run.events.find((e) => e.step === 'initialize')?.http[0]).toMatchObject({ method: 'GET', url: `${rsOrigin}/sse`, status: 200 });
  });

  it('--transport sse --cookie: POST /session with the bearer, then the cookie and Origin', async () => {
    const run = await cli('connect', `${rsOrigin}/sse`, '--transport', 'sse', '--cookie', ...LOGIN);
    expect(run.code, run.stderr).toBe(0);
    expect(run.steps).toEqual([...DISCOVERY, ...AUTHORIZATION, 'session', 'initialize', 'tools-list']);
    const session = run.events.find((e) => e.step === 'session');
    expect(session?.http[0]).toMatchObject({ method: 'POST', url: `${rsOrigin}/session`, status: 204 });
    const init = run.events.find((e) => e.step === 'initialize');
    for (const h of init?.http ?? []) {
      expect(h.headers.authorization).toBeUndefined();
      expect(h.headers.cookie).toMatch(/^mcp_lab_session=/);
      expect(h.headers.origin).toBe(rsOrigin);
    }
  });

  it('notes_add steps up to notes:write, then notes_list (stored token) shows the note', async () => {
    const add = await cli('call', `${rsOrigin}/mcp`, 'notes_add', '{"text":"from the CLI"}', ...LOGIN);
    expect(add.code, add.stderr).toBe(0);
    expect(add.steps).toEqual([
      ...DISCOVERY, ...AUTHORIZATION, 'initialize', 'tools-call:fail', 'step-up', ...AUTHORIZATION, 'initialize', 'tools-call',
    ]);
    const stepUp = add.events.find((e) => e.step === 'step-up');
    expect(stepUp?.data.scope).toBe('notes:read notes:write');
    expect(JSON.parse(toolText(add))).toMatchObject({ text: 'from the CLI' });

    const list = await cli('call', `${rsOrigin}/mcp`, 'notes_list', ...LOGIN);
    expect(list.code, list.stderr).toBe(0);
    expect(list.steps).toEqual(['stored-token', 'initialize', 'tools-call']);
    expect((JSON.parse(toolText(list)) as { text: string }[]).map((n) => n.text)).toContain('from the CLI');
  });
}

function storedTokenAndClientTests(): void {
  it('a warm second run uses the stored token: no authorize step', async () => {
    const first = await cli('tools', `${rsOrigin}/mcp`, ...LOGIN);
    expect(first.code, first.stderr).toBe(0);
    const second = await cli('tools', `${rsOrigin}/mcp`);
    expect(second.code, second.stderr).toBe(0);
    expect(second.steps).toEqual(['stored-token', 'initialize', 'tools-list']);
    const registered = first.events.find((e) => e.step === 'registration')?.data.client_id;
    expect(second.events[0]?.data).toMatchObject({ issuer, client_id: registered, resource: `${rsOrigin}/mcp`, discovery: 'skipped' });
  });

  it('logout forgets the token: the next run authorizes again', async () => {
    expect((await cli('tools', `${rsOrigin}/mcp`, ...LOGIN)).code).toBe(0);
    const out = await cli('logout', `${rsOrigin}/mcp`);
    expect(out.events[0]).toMatchObject({ step: 'logout', data: { forgotten: 1 } });
    const again = await cli('tools', `${rsOrigin}/mcp`, ...LOGIN);
    expect(again.steps).toContain('authorize');
  });

  it('the pre-registered client mcp-lab-cli works with --client-id', async () => {
    const run = await cli('tools', `${rsOrigin}/mcp`, '--client-id', 'mcp-lab-cli', ...LOGIN);
    expect(run.code, run.stderr).toBe(0);
    expect(run.events.find((e) => e.step === 'registration')?.data).toMatchObject({ method: 'pre-registered', client_id: 'mcp-lab-cli' });
  });

  it('a wrong password exits non-zero with a clear message', async () => {
    const run = await cli('tools', `${rsOrigin}/mcp`, '--login', 'alice:not-her-password');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`login failed at ${issuer}: invalid credentials`);
    expect(run.stderr).toContain('step "authorize" failed');
    expect(run.events.at(-1)).toMatchObject({ step: 'authorize', status: 'fail' });
    expect(run.stdout).not.toContain('not-her-password');
  });
}
