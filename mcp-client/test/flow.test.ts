import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowError } from '../src/errors.ts';
import type { StepEvent } from '../src/events.ts';
import { runFlow, type FlowOptions } from '../src/flow.ts';
import { browserAgent, type UserAgent } from '../src/steps/authorize.ts';
import { createStepContext } from '../src/step-context.ts';
import { TokenStore } from '../src/store.ts';
import { ISSUER, MCP, fakeLab, runFakeFlow, type FakeLab } from './fake-lab.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-lab-client-flow-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(lab: FakeLab, userAgent: UserAgent, extra: Partial<FlowOptions> = {}) {
  return runFakeFlow(lab, dir, userAgent, extra);
}

const sawTokenRequest = (lab: FakeLab) => lab.net.calls().includes(`POST ${ISSUER}/token`);

describe('flow: the whole sequence', () => {
  it('probe → discovery → DCR → authorize → callback → token → initialize → tools/list', async () => {
    const lab = fakeLab();
    const r = run(lab, lab.userAgent());
    const result = await r.promise;
    expect(r.steps()).toEqual([
      'probe:ok', 'resource-metadata:ok', 'as-metadata:ok', 'registration:ok', 'authorize:ok', 'callback:ok', 'token:ok', 'initialize:ok', 'tools-list:ok',
    ]);
    expect(result.tools?.map((t) => t.name)).toEqual(['notes_add']);
    // Challenge scope first, offline_access because the AS lists it.
    expect(lab.authorizations).toEqual([['notes:read', 'offline_access']]);
    const authorize = r.events.find((e) => e.step === 'authorize')!;
    const url = new URL(String(authorize.data.authorization_url));
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(MCP);
  });

  it('never prints a token: event data and headers are redacted', async () => {
    const lab = fakeLab();
    const r = run(lab, lab.userAgent());
    await r.promise;
    const text = JSON.stringify(r.events);
    for (const token of lab.tokens.keys()) expect(text).not.toContain(token);
    expect(text).not.toContain('refresh-token-');
  });

  it('never prints a token a server echoes back: not in a WWW-Authenticate header, not in a tool result', async () => {
    const lab = fakeLab();
    // A hostile RS: every answer echoes the bearer token it got, in its challenge and in the tool's text.
    const echoing: typeof lab.net.fetch = async (input, init) => {
      const request = new Request(input, init);
      const token = request.headers.get('authorization')?.slice(7) ?? '';
      const res = await lab.net.fetch(input, init);
      if (token === '' || !request.url.startsWith(MCP) || request.method !== 'POST') return res;
      const body = (await res.text()).replace('"added"', JSON.stringify(`added with ${token}`));
      const headers = new Headers(res.headers);
      if (res.status === 200) headers.set('www-authenticate', `Bearer error="invalid_token", error_description="you sent ${token}"`);
      else headers.append('www-authenticate', `Bearer error="invalid_token", error_description="you sent ${token}"`);
      return new Response(body, { status: res.status, headers });
    };
    const r = run(lab, lab.userAgent(), { command: 'call', call: { tool: 'notes_add', args: { text: 'x' } }, fetch: echoing });
    await r.promise;
    const text = JSON.stringify(r.events);
    expect(lab.tokens.size).toBeGreaterThan(0);
    for (const token of lab.tokens.keys()) expect(text).not.toContain(token);
    const call = r.events.filter((e) => e.step === 'tools-call' && e.status === 'ok').at(-1)!;
    expect(JSON.stringify(call.data.content)).toMatch(/added with access…/);
    expect(call.http.some((h) => /you sent access…/.test(h.headers['www-authenticate'] ?? ''))).toBe(true);
  });

  it('a warm second run uses the stored token (no authorize step)', async () => {
    const lab = fakeLab();
    await run(lab, lab.userAgent()).promise;
    const before = lab.net.calls().length;
    const second = run(lab, lab.userAgent());
    await second.promise;
    // Warm path: the stored record names issuer, client and resource, so no probe and no discovery.
    expect(second.steps()).toEqual(['stored-token:ok', 'initialize:ok', 'tools-list:ok']);
    expect(lab.net.calls().slice(before).every((c) => c === `POST ${MCP}` || c === `DELETE ${MCP}`)).toBe(true);
    expect(lab.net.calls().filter((c) => c === `POST ${ISSUER}/register`)).toHaveLength(1);
  });

  it('a 401 with a stored token refreshes before authorizing again', async () => {
    const lab = fakeLab();
    await run(lab, lab.userAgent()).promise;
    lab.tokens.clear(); // the RS no longer accepts the access token
    const second = run(lab, lab.userAgent());
    await second.promise;
    expect(second.steps()).toEqual([
      'stored-token:ok', 'initialize:fail', 'resource-metadata:ok', 'as-metadata:ok', 'registration:ok', 'refresh:ok', 'initialize:ok', 'tools-list:ok',
    ]);
    expect(lab.authorizations).toHaveLength(1);
  });
});

describe('flow: offline_access', () => {
  it('retries once without offline_access when the AS refuses it, and does not ask again at a step-up', async () => {
    const lab = fakeLab({ refuseOfflineAccess: true });
    const r = run(lab, lab.userAgent(), { command: 'call', call: { tool: 'notes_add', args: {} } });
    await r.promise;
    expect(lab.authorizations).toEqual([['notes:read', 'offline_access'], ['notes:read'], ['notes:read', 'notes:write']]);
    expect(r.steps().slice(4, 8)).toEqual(['authorize:ok', 'callback:fail', 'authorize:ok', 'callback:ok']);
    expect(r.events.find((e) => e.step === 'callback' && e.status === 'fail')?.data.code).toBe('invalid-scope');
  });

  it('retries at most once: an invalid_scope without offline_access stands', async () => {
    const lab = fakeLab();
    const r = run(lab, lab.userAgent((p) => {
      p.delete('code');
      p.set('error', 'invalid_scope');
    }));
    await expect(r.promise).rejects.toThrow(/invalid_scope/);
    expect(lab.authorizations).toEqual([['notes:read', 'offline_access'], ['notes:read']]);
  });

  it('does not retry other authorization errors', async () => {
    const lab = fakeLab();
    const r = run(lab, lab.userAgent((p) => {
      p.delete('code');
      p.set('error', 'access_denied');
    }));
    await expect(r.promise).rejects.toThrow(/access_denied/);
    expect(lab.authorizations).toHaveLength(1);
  });
});

describe('flow: browser mode', () => {
  it('prints the URL, "opens" it, and takes the code from the loopback listener (127.0.0.1, /callback)', async () => {
    const lab = fakeLab();
    const grant = lab.userAgent();
    const diagnostics: string[] = [];
    let listenerHit: Response | undefined;
    const agent: UserAgent = async (ctx, url, listener) =>
      browserAgent(async (href) => {
        // The "browser": the AS grants at once, then the browser follows the redirect to the real listener.
        const redirect = await grant(createStepContext(lab.net.fetch), new URL(href), listener);
        expect(redirect.host).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(redirect.pathname).toBe('/callback');
        listenerHit = await fetch(redirect);
        return true;
      })(ctx, url, listener);
    const events: StepEvent[] = [];
    await runFlow({
      command: 'tools',
      serverUrl: MCP,
      transport: 'http',
      cookie: false,
      loginDriver: 'auto',
      store: new TokenStore(dir),
      fetch: lab.net.fetch,
      observer: { step: (e) => events.push(e), diagnostic: (d) => diagnostics.push(d.message) },
      openBrowser: async () => false,
      userAgent: agent,
    });
    expect(listenerHit?.status).toBe(200);
    expect(diagnostics.join('\n')).toMatch(/Open this URL in a browser/);
    expect(events.map((e) => e.step)).toContain('tools-list');
  });
});

describe('flow: step-up on insufficient_scope', () => {
  it('re-authorizes with the union of requested and challenged scopes, then retries the call', async () => {
    const lab = fakeLab();
    const r = run(lab, lab.userAgent(), { command: 'call', call: { tool: 'notes_add', args: { text: 'x' } } });
    await r.promise;
    expect(r.steps().slice(8)).toEqual(['tools-call:fail', 'step-up:ok', 'authorize:ok', 'callback:ok', 'token:ok', 'initialize:ok', 'tools-call:ok']);
    expect(lab.authorizations[1]).toEqual(['notes:read', 'notes:write', 'offline_access']);
    expect(r.events.find((e) => e.step === 'tools-call' && e.status === 'fail')?.data.next).toBe('step-up');
  });

  it('gives up with a clear error after two step-ups', async () => {
    const lab = fakeLab({ alwaysForbidCalls: true });
    const r = run(lab, lab.userAgent(), { command: 'call', call: { tool: 'notes_add', args: {} } });
    const err = await r.promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).message).toMatch(/still insufficient_scope after 2 step-up/);
    expect(lab.authorizations).toHaveLength(3);
    expect(r.steps().filter((s) => s === 'step-up:ok')).toHaveLength(2);
    expect((err as FlowError).code).toBe('step-up-exhausted');
    expect(r.events.filter((e) => e.step === 'tools-call' && e.status === 'fail').map((e) => e.data.next)).toEqual(['step-up', 'step-up', 'give-up']);
  });
});

describe('flow: recovery after a refusal (the event names what the flow then does)', () => {
  it('a server that let the probe through answers 401 to an operation: the event says discovery, and discovery runs', async () => {
    const lab = fakeLab({ anonymousInitialize: true });
    const r = run(lab, lab.userAgent());
    await r.promise;
    expect(r.steps()).toEqual([
      'probe:ok', 'initialize:ok', 'tools-list:fail', 'resource-metadata:ok', 'as-metadata:ok', 'registration:ok',
      'authorize:ok', 'callback:ok', 'token:ok', 'initialize:ok', 'tools-list:ok',
    ]);
    expect(r.event('probe')?.data.auth_required).toBe(false);
    expect(r.events.find((e) => e.step === 'tools-list' && e.status === 'fail')?.data.next).toBe('discovery');
  });

  it('a 401 to every token: refresh, then one new authorization, then a still-unauthorized error', async () => {
    const lab = fakeLab();
    const challenge = 'Bearer resource_metadata="https://rs.example.com/.well-known/oauth-protected-resource/mcp", error="invalid_token"';
    lab.net.on('POST', MCP, () => new Response('{}', { status: 401, headers: { 'www-authenticate': challenge } }));
    const r = run(lab, lab.userAgent());
    const err = (await r.promise.catch((e: unknown) => e)) as FlowError;
    expect(err).toBeInstanceOf(FlowError);
    expect(err.code).toBe('still-unauthorized');
    expect(err.message).toMatch(/still answers 401 after a new authorization/);
    expect(r.steps().slice(7)).toEqual(['initialize:fail', 'refresh:ok', 'initialize:fail', 'authorize:ok', 'callback:ok', 'token:ok', 'initialize:fail']);
    expect(r.events.filter((e) => e.step === 'initialize').map((e) => e.data.next)).toEqual(['refresh', 'authorize', 'give-up']);
    expect(r.events.filter((e) => e.step === 'initialize').map((e) => e.data.code)).toEqual(['auth-failure', 'auth-failure', 'auth-failure']);
    expect(lab.authorizations).toHaveLength(2);
  });

  it('an AS that no longer knows a stored registration (invalid_client): registers again, once', async () => {
    const lab = fakeLab({ forgottenClients: ['forgotten-client'] });
    await new TokenStore(dir).putRegistration({
      issuer: ISSUER,
      client_id: 'forgotten-client',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      registered_at: new Date(0).toISOString(),
    });
    const r = run(lab, lab.userAgent());
    await r.promise;
    expect(r.steps()).toEqual([
      'probe:ok', 'resource-metadata:ok', 'as-metadata:ok', 'registration:ok', 'authorize:ok', 'callback:ok', 'token:fail',
      'registration:ok', 'authorize:ok', 'callback:ok', 'token:ok', 'initialize:ok', 'tools-list:ok',
    ]);
    expect(r.events.filter((e) => e.step === 'registration').map((e) => [e.data.method, e.data.client_id])).toEqual([
      ['stored-dcr', 'forgotten-client'],
      ['dcr', 'dcr-client'],
    ]);
    expect(r.warnings.join('\n')).toMatch(/no longer knows client forgotten-client; registering again/);
  });

  it('does not register again when a new registration is refused with invalid_client too', async () => {
    const lab = fakeLab({ forgottenClients: ['dcr-client'] });
    const r = run(lab, lab.userAgent());
    const err = (await r.promise.catch((e: unknown) => e)) as FlowError;
    expect(err.code).toBe('invalid-client');
    expect(err.step).toBe('token');
    expect(r.events.filter((e) => e.step === 'token').map((e) => e.data.code)).toEqual(['invalid-client']);
    expect(lab.net.calls().filter((c) => c === `POST ${ISSUER}/register`)).toHaveLength(1);
  });
});

describe('flow: the callback is validated before any token request', () => {
  it('refuses a state mismatch and sends no token request', async () => {
    const lab = fakeLab();
    const r = run(lab, lab.userAgent((p) => p.set('state', 'forged')));
    const err = (await r.promise.catch((e: unknown) => e)) as FlowError;
    expect(err.step).toBe('callback');
    expect(err.code).toBe('check-failed');
    expect(err.message).toMatch(/state matches/);
    expect(sawTokenRequest(lab)).toBe(false);
  });

  it('refuses a missing state and sends no token request', async () => {
    const lab = fakeLab();
    const r = run(lab, lab.userAgent((p) => p.delete('state')));
    const err = (await r.promise.catch((e: unknown) => e)) as FlowError;
    expect(err.step).toBe('callback');
    expect(sawTokenRequest(lab)).toBe(false);
  });

  it('refuses an iss mismatch (mix-up) and sends no token request', async () => {
    const lab = fakeLab();
    const r = run(lab, lab.userAgent((p) => p.set('iss', 'https://attacker.example.com')));
    const err = (await r.promise.catch((e: unknown) => e)) as FlowError;
    expect(err.step).toBe('callback');
    expect(err.message).toMatch(/iss matches the recorded issuer/);
    expect(sawTokenRequest(lab)).toBe(false);
  });

  it('does not act on or show an error response whose iss mismatches', async () => {
    const lab = fakeLab();
    const r = run(lab, lab.userAgent((p) => {
      p.delete('code');
      p.set('iss', 'https://attacker.example.com');
      p.set('error', 'access_denied');
      p.set('error_description', 'CALL-THIS-PHONE-NUMBER');
    }));
    const err = (await r.promise.catch((e: unknown) => e)) as FlowError;
    expect(err.step).toBe('callback');
    expect(JSON.stringify(r.events)).not.toContain('CALL-THIS-PHONE-NUMBER');
    expect(err.message).not.toContain('access_denied');
  });

  it('refuses a missing iss when the AS advertises it, and sends no token request', async () => {
    const lab = fakeLab({ issParameterSupported: true });
    const r = run(lab, lab.userAgent((p) => p.delete('iss')));
    const err = (await r.promise.catch((e: unknown) => e)) as FlowError;
    expect(err.step).toBe('callback');
    expect(err.message).toMatch(/iss present when advertised/);
    expect(sawTokenRequest(lab)).toBe(false);
  });

  it('proceeds without iss when the AS does not advertise it', async () => {
    const lab = fakeLab({ issParameterSupported: false });
    const r = run(lab, lab.userAgent((p) => p.delete('iss')));
    await r.promise;
    expect(sawTokenRequest(lab)).toBe(true);
  });

  it('compares a present iss even when the AS does not advertise it', async () => {
    const lab = fakeLab({ issParameterSupported: false });
    const r = run(lab, lab.userAgent((p) => p.set('iss', `${ISSUER}/`)));
    const err = (await r.promise.catch((e: unknown) => e)) as FlowError;
    expect(err.step).toBe('callback');
    expect(sawTokenRequest(lab)).toBe(false);
  });

  it('shows an authorization error response whose iss matches', async () => {
    const lab = fakeLab();
    const r = run(lab, lab.userAgent((p) => {
      p.delete('code');
      p.set('error', 'access_denied');
      p.set('error_description', 'user said no');
    }));
    const err = (await r.promise.catch((e: unknown) => e)) as FlowError;
    expect(err.message).toMatch(/access_denied \(user said no\)/);
    expect(sawTokenRequest(lab)).toBe(false);
  });
});
