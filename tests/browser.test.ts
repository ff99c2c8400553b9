/**
 * The browser client (web/) in real Chromium against real stacks, one per IdP profile: discovery from the 401,
 * registration, the authorization code flow with PKCE in the page, the token exchange over CORS, then MCP over
 * the page's own EventSource with the RS session cookie and over Streamable HTTP with the bearer token. Then a page
 * on a foreign origin tries to use the cookie (refused by the RS's Origin checks, seen in the browser), and a
 * logout ends the stream. Screenshots go to test-results/.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepEvent } from 'mcp-lab-client/events';
import { captureSink, loadProfile, startLab, type Lab, type Profile } from '@mcp-lab/launcher';
import { findChromium, launchChromium, signIn, type Browser } from '@mcp-lab/test-kit/browser';
import { requirePrereq } from '@mcp-lab/test-kit/prereq';
import { buildApp as buildWebApp } from '../web/src/app.ts';
import { buildBundle } from '../web/src/bundle.ts';
import { loadConfig as loadWebConfig } from '../web/src/config.ts';
import { requireDex, requireKeycloak } from './provisioned.ts';

const ARTIFACTS = fileURLToPath(new URL('../test-results/', import.meta.url));

const chromium = findChromium();
const haveChromium = requirePrereq('Chromium', chromium.available, chromium.reason);
const dexBin = requireDex();
const keycloakHome = requireKeycloak();

interface LabWindow {
  __mcpLab: { state: string; events: StepEvent[]; error?: string; unsupported?: string };
}

const PROFILES: { name: string; available: boolean }[] = [
  { name: 'embedded', available: true },
  { name: 'dex', available: dexBin !== undefined },
  { name: 'keycloak', available: keycloakHome !== undefined },
];

/** A page on another origin (same site: 127.0.0.1, another port), not among the RS's allowed origins. */
async function startForeignOrigin(): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>a foreign page</title><p>not the lab</p>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

interface WireRequest {
  method: string;
  path: string;
  origin?: string;
  cookie?: boolean;
  status?: number;
}

/** Records every request from `page` to `origin` as Chromium saw it on the wire (DevTools protocol). */
async function watchWire(page: Page, origin: string): Promise<WireRequest[]> {
  const cdp = await page.context().newCDPSession(page);
  const byId = new Map<string, WireRequest>();
  const list: WireRequest[] = [];
  const entry = (id: string): WireRequest => {
    let e = byId.get(id);
    if (!e) {
      e = { method: '', path: '' };
      byId.set(id, e);
    }
    return e;
  };
  cdp.on('Network.requestWillBeSent', (ev) => {
    if (!ev.request.url.startsWith(origin)) return;
    const e = entry(ev.requestId);
    e.method = ev.request.method;
    e.path = new URL(ev.request.url).pathname;
    list.push(e);
  });
  cdp.on('Network.requestWillBeSentExtraInfo', (ev) => {
    const headers = Object.fromEntries(Object.entries(ev.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const e = entry(ev.requestId);
    e.cookie = (headers.cookie ?? '').includes('mcp_lab_session=');
    if (headers.origin !== undefined) e.origin = headers.origin;
    if (headers[':method'] === 'OPTIONS' || e.method === '') e.method = headers[':method'] ?? e.method;
  });
  cdp.on('Network.responseReceivedExtraInfo', (ev) => {
    entry(ev.requestId).status = ev.statusCode;
  });
  await cdp.send('Network.enable');
  return list;
}

async function labState(page: Page): Promise<LabWindow['__mcpLab']> {
  return page.evaluate(() => (window as unknown as LabWindow).__mcpLab);
}

/**
 * Clicks "Connect" once the page has wired it (the button is disabled in the HTML until its script has loaded the
 * configuration and drawn the diagram). On a machine busy with other suites that can take a while; when it never
 * happens, the failure says what the page reported (uncaught errors and console errors since it was opened).
 */
async function clickRun(page: Page, problems: readonly string[]): Promise<void> {
  try {
    await page.locator('#run:enabled').waitFor({ timeout: 90_000 });
  } catch (err) {
    throw new Error(`the page never enabled #run; it reported: ${JSON.stringify(problems)}; state ${JSON.stringify(await labState(page).catch(() => undefined))}`, { cause: err });
  }
  await page.click('#run');
}

/** Collects what `page` reports as going wrong: uncaught errors and console errors. */
function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  return problems;
}

async function waitForState(page: Page, state: string, timeoutMs: number): Promise<void> {
  try {
    await page.waitForFunction((s) => ['failed', s].includes((window as unknown as LabWindow).__mcpLab?.state), state, { timeout: timeoutMs });
  } catch (err) {
    throw new Error(`the page did not reach ${state}: ${JSON.stringify(await labState(page).catch(() => undefined))}`, { cause: err });
  }
  const lab = await labState(page);
  if (lab.state !== state) throw new Error(`the page failed: ${lab.error}\n${JSON.stringify(lab.events.filter((e) => e.status === 'fail'), null, 1)}`);
}

function stepsOf(events: readonly StepEvent[], transport: string): StepEvent[] {
  return events.filter((e) => e.data.transport === transport);
}

/** One profile's stack and browser, set by beforeAll, shared by the profile's tests in order. */
interface BrowserSuite {
  readonly name: string;
  readonly sink: ReturnType<typeof captureSink>;
  profile: Profile;
  lab: Lab;
  browser: Browser;
  page: Page;
}

for (const { name, available } of PROFILES) {
  describe.runIf(haveChromium && available)(`browser client on the ${name} profile`, () => {
    const suite = { name, sink: captureSink() } as BrowserSuite;

    beforeAll(async () => {
      suite.profile = loadProfile(suite.name);
      try {
        suite.lab = await startLab(suite.profile, {
          webPort: 0,
          // A cold JVM (Keycloak) answers its first JWKS request slowly on a busy 2-core machine; the RS default is 5 s.
          rsEnv: { MCP_JWKS_TIMEOUT_MS: '20000' },
          ...(dexBin === undefined ? {} : { dexBin }),
          ...(keycloakHome === undefined ? {} : { keycloakHome }),
          log: suite.sink.stream,
        });
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- output ---\n${suite.sink.text()}`, { cause: err });
      }
      suite.browser = await launchChromium();
      suite.page = await suite.browser.context.newPage();
    }, 300_000);
    afterAll(async () => {
      await suite.browser?.close();
      await suite.lab?.stop();
    });

    connectedFlowTests(suite);
    originTests(suite);
    logoutTests(suite);
  });
}

/** The whole flow in the page, checked step by step, to a tool result over both transports. */
function connectedFlowTests(suite: BrowserSuite): void {
  it('runs the whole flow in the page to a tool result over cookie SSE and over bearer Streamable HTTP', { timeout: 120_000 }, async () => {
    const user = suite.profile.login.users[0]!;
    const problems = pageProblems(suite.page);
    await suite.page.goto(suite.lab.webUrl!);
    await clickRun(suite.page, problems);
    await signIn(suite.page, suite.profile.login.driver as 'embedded' | 'dex' | 'keycloak', user.username, user.password).catch(async (err: unknown) => {
      const state = await labState(suite.page).catch(() => undefined);
      throw new Error(`no login form at ${suite.page.url()}; page state ${JSON.stringify(state)}\n--- output ---\n${suite.sink.text()}`, { cause: err });
    });
    await waitForState(suite.page, 'connected', 90_000);
    // The page is back on its own origin, without the code in its address bar.
    expect(suite.page.url()).toBe(`${suite.lab.webUrl}/`);

    const { events } = await labState(suite.page);
    expect(events.map((e) => e.step).slice(0, 8)).toEqual(['probe', 'resource-metadata', 'as-metadata', 'registration', 'authorize', 'callback', 'token', 'session']);
    expect(events.every((e) => e.status === 'ok')).toBe(true);
    const probe = events[0]!;
    expect(probe.http[0]).toMatchObject({ method: 'POST', url: `${suite.lab.rsUrl}/mcp`, status: 401 });
    expect(probe.http[0]!.headers['www-authenticate']).toMatch(/^Bearer .*resource_metadata="/);
    const callback = events.find((e) => e.step === 'callback')!;
    expect(callback.checks.map((c) => c.name)).toContain('state matches');
    expect(events.find((e) => e.step === 'token')!.http[0]).toMatchObject({ method: 'POST', status: 200 });
    expect(events.find((e) => e.step === 'session')!.http[0]).toMatchObject({ method: 'POST', url: `${suite.lab.rsUrl}/session`, status: 204 });

    const sse = stepsOf(events, 'HTTP+SSE');
    expect(sse.map((e) => e.step)).toEqual(['initialize', 'tools-list', 'tools-call']);
    expect(sse[0]!.http[0]).toMatchObject({ method: 'GET', url: `${suite.lab.rsUrl}/sse`, status: 200 });
    // Every message of the cookie session went to /messages without an Authorization header.
    const posts = sse.flatMap((e) => e.http).filter((h) => h.method === 'POST');
    expect(posts.length).toBeGreaterThan(0);
    for (const h of posts) {
      expect(h.url).toMatch(new RegExp(`^${suite.lab.rsUrl}/messages\\?sessionId=`));
      expect(h.headers.authorization).toBeUndefined();
      expect(h.status).toBe(202);
    }
    const http = stepsOf(events, 'Streamable HTTP');
    expect(http.map((e) => e.step)).toEqual(['initialize', 'tools-list', 'tools-call']);
    for (const h of http.flatMap((e) => e.http)) expect(h.headers.authorization).toMatch(/^Bearer .{6}…$/);

    // whoami: the same verified identity from the lab's IdP through both transports.
    const viaSse = JSON.parse((await suite.page.locator('#sse-result').textContent()) ?? '') as { iss: string; sub: string };
    const viaHttp = JSON.parse((await suite.page.locator('#http-result').textContent()) ?? '') as { iss: string; sub: string };
    expect(viaSse.iss).toBe(suite.lab.issuer);
    expect(viaSse.sub).not.toBe('');
    expect(viaHttp).toMatchObject({ iss: viaSse.iss, sub: viaSse.sub });
    // No token in clear anywhere in the events.
    expect(JSON.stringify(events)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    // The diagram drew every step.
    expect(await suite.page.locator('#diagram svg').count()).toBe(1);
    await suite.page.waitForFunction((n) => Number(document.getElementById('diagram')?.dataset.steps) >= n, events.length);
    mkdirSync(ARTIFACTS, { recursive: true });
    await suite.page.screenshot({ path: `${ARTIFACTS}browser-${suite.name}-connected.png`, fullPage: true });
  });
}

/** Origins the servers do not allow: a foreign page using the cookie, and the page itself served elsewhere. */
function originTests(suite: BrowserSuite): void {
  it('refuses a page on a foreign origin that tries to use the cookie (Origin checks, seen in the browser)', { timeout: 60_000 }, async () => {
    const foreign = await startForeignOrigin();
    const attacker = await suite.browser.context.newPage();
    // What went over the wire, from Chromium's network domain: it reports requests whose answers CORS then hid.
    const wire = await watchWire(attacker, suite.lab.rsUrl);
    try {
      await attacker.goto(foreign.url);
      const seen = await attacker.evaluate(async (rs) => {
        const out: Record<string, string> = {};
        // A classic CSRF: a "simple" cross-origin POST (no preflight) with the ambient cookie.
        try {
          await fetch(`${rs}/messages?sessionId=any`, { method: 'POST', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
          out.post = 'read';
        } catch {
          out.post = 'blocked';
        }
        try {
          await fetch(`${rs}/session`, { method: 'DELETE', credentials: 'include' });
          out.logout = 'read';
        } catch {
          out.logout = 'blocked';
        }
        out.sse = await new Promise<string>((resolve) => {
          const es = new EventSource(`${rs}/sse`, { withCredentials: true });
          es.onopen = () => (es.close(), resolve('open'));
          es.onerror = () => (es.close(), resolve('refused'));
        });
        return out;
      }, suite.lab.rsUrl);
      expect(seen).toEqual({ post: 'blocked', logout: 'blocked', sse: 'refused' });
      // The browser sent the cookie (same site), and the RS refused each request for its Origin.
      await expect.poll(() => wire.filter((w) => w.status !== undefined).length).toBeGreaterThanOrEqual(3);
      const sent = (method: string, path: string) => wire.filter((w) => w.method === method && w.path === path);
      expect(sent('POST', '/messages')).toMatchObject([{ status: 403, cookie: true, origin: foreign.url.slice(0, -1) }]);
      expect(sent('GET', '/sse')).toMatchObject([{ status: 403, cookie: true }]);
      // The logout attempt needs a preflight, which the RS does not grant to this origin: the DELETE itself was
      // never answered (Chromium announces it, then blocks it after the preflight).
      expect(sent('OPTIONS', '/session')).toHaveLength(1);
      expect(sent('DELETE', '/session').map((w) => w.status)).toEqual([undefined]);
      // The lab page's session survived the attempt.
      expect((await labState(suite.page)).state).toBe('connected');
    } finally {
      await attacker.close();
      foreign.server.closeAllConnections();
      await new Promise((r) => foreign.server.close(r));
    }
  });

  // Independent of the IdP: defined once, on the embedded profile (so that nothing is reported as skipped).
  if (suite.name === 'embedded') it('tells a page whose origin the servers do not allow why it cannot run', { timeout: 120_000 }, async () => {
    // The same page, served from an origin that neither the RS nor the IdP was told about.
    const web = await buildWebApp(loadWebConfig({ WEB_PORT: '0', WEB_RS_URL: suite.lab.rsUrl, WEB_IDP_NAME: suite.name, WEB_LOG_LEVEL: 'silent' }), { bundle: await buildBundle() });
    const address = await web.listen({ host: '127.0.0.1', port: 0 });
    const other = await suite.browser.context.newPage();
    const problems = pageProblems(other);
    try {
      await other.goto(address);
      await clickRun(other, problems);
      await waitForState(other, 'failed', 30_000);
      const state = await labState(other);
      expect(state.state).toBe('failed');
      expect(state.unsupported).toContain(`the browser blocked reading ${suite.lab.rsUrl}/mcp`);
      await expect(other.locator('#unsupported').textContent()).resolves.toContain('no CORS permission for this origin');
    } finally {
      await other.close();
      await web.close();
    }
  });
}

/** The logout that ends the cookie SSE stream (runs last: it ends the connected page's session). */
function logoutTests(suite: BrowserSuite): void {
  it('a logout ends the cookie SSE stream; the reconnect is refused', { timeout: 60_000 }, async () => {
    await suite.page.click('#logout');
    await waitForState(suite.page, 'logged-out', 30_000);
    const { events } = await labState(suite.page);
    const logout = events.at(-1)!;
    expect(logout).toMatchObject({ step: 'logout', status: 'ok', data: { streamEnded: true, reconnectRefused: true } });
    expect(logout.http[0]).toMatchObject({ method: 'DELETE', url: `${suite.lab.rsUrl}/session`, status: 204 });
    await suite.page.waitForFunction((n) => Number(document.getElementById('diagram')?.dataset.steps) >= n, events.length);
    await suite.page.screenshot({ path: `${ARTIFACTS}browser-${suite.name}.png`, fullPage: true });
  });
}
