/** The page: loads its configuration, wires the buttons, runs or resumes the sequence and shows every step. */
import { type StepEvent, FlowError } from 'mcp-lab-client/browser';
import { PAGE_PATHS, type PageConfig } from '../src/page-config.ts';
import { drawSequence, type Parties } from './diagram.ts';
import type { NativeSseTransport } from './native-sse.ts';
import { BrowserUnsupportedError } from './registration.ts';
import { logout, resumeRun, startRun } from './run.ts';
import { takeRun } from './saved-run.ts';
import { blockedUrls, StepRunner } from './steps.ts';

type RunState = 'idle' | 'running' | 'authorizing' | 'connected' | 'failed' | 'logged-out';

/** What tests and curious people can read from the console: the events and where the run is. */
interface LabWindow {
  __mcpLab: { state: RunState; events: readonly StepEvent[]; error?: string; unsupported?: string };
}

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing`);
  return e as T;
}

function renderStep(e: StepEvent): void {
  const li = document.createElement('li');
  li.className = e.status;
  const via = typeof e.data.transport === 'string' ? ` — ${e.data.transport}, ${String(e.data.auth)}` : '';
  li.textContent = `${e.status === 'ok' ? '✔' : '✘'} ${e.step}${via} (${e.ms} ms)`;
  const ul = document.createElement('ul');
  for (const c of e.checks) {
    const ci = document.createElement('li');
    ci.textContent = `${c.ok ? '✓' : '✗'} ${c.name}${c.detail ? ` — ${c.detail}` : ''}`;
    ul.append(ci);
  }
  if (typeof e.data.error === 'string') {
    const ci = document.createElement('li');
    ci.textContent = `error: ${e.data.error}${typeof e.data.hint === 'string' ? ` — ${e.data.hint}` : ''}`;
    ul.append(ci);
  }
  li.append(ul);
  el('steps').append(li);
}

function contentText(content: unknown): string {
  if (!Array.isArray(content)) return JSON.stringify(content);
  return content.map((c: { type?: string; text?: string }) => (c.type === 'text' ? (c.text ?? '') : JSON.stringify(c))).join('\n');
}

/** Why this IdP cannot serve the page, in words, when the failure says so. */
function unsupportedReason(err: unknown, config: PageConfig): string | undefined {
  if (err instanceof BrowserUnsupportedError) return `${config.idpName} cannot serve a browser client as configured: ${err.message}. ${err.hint ?? ''}`;
  if (blockedUrls.length) {
    return `${config.idpName} cannot serve a browser client from ${location.origin} as configured: the browser blocked reading ${[...new Set(blockedUrls)].join(', ')} (no CORS permission for this origin). Allow this origin at the server (Keycloak client webOrigins, Dex web.allowedOrigins, the RS MCP_ALLOWED_ORIGINS).`;
  }
  return undefined;
}

/** What the page's parts share: the console view, the configuration, the run and how to show its state. */
interface Page {
  readonly lab: LabWindow['__mcpLab'];
  readonly config: PageConfig;
  readonly runner: StepRunner;
  readonly saved: ReturnType<typeof takeRun>;
  readonly setState: (state: RunState, message: string) => void;
  readonly fail: (err: unknown) => void;
}

/** Loads the configuration and any saved run, and draws the steps so far (and each one as it comes). */
async function loadPage(): Promise<Page> {
  const lab: LabWindow['__mcpLab'] = { state: 'idle', events: [] };
  (window as unknown as LabWindow).__mcpLab = lab;
  const config = (await (await fetch(PAGE_PATHS.config)).json()) as PageConfig;
  const saved = location.pathname === PAGE_PATHS.callback ? takeRun() : undefined;
  const runner = new StepRunner(saved?.events ?? []);
  const parties: Parties = { page: location.origin, rs: config.rsUrl, ...(saved ? { as: new URL(saved.as.issuer).origin } : {}) };
  lab.events = runner.events;
  const redraw = (): Promise<void> => drawSequence(el('diagram'), runner.events, parties);
  runner.onStep((e) => {
    if (e.step === 'as-metadata' && typeof e.data.issuer === 'string') parties.as = new URL(e.data.issuer).origin;
    renderStep(e);
    void redraw();
  });
  for (const e of runner.events) renderStep(e);
  await redraw();
  const setState = stateSetter(lab);
  return { lab, config, runner, saved, setState, fail: failer(lab, config, setState) };
}

function stateSetter(lab: LabWindow['__mcpLab']): Page['setState'] {
  const status = el('status');
  return (state, message) => {
    lab.state = state;
    status.textContent = message;
    status.className = state === 'failed' ? 'fail' : '';
    document.body.dataset.state = state;
  };
}

/** Shows a failure, and why the IdP cannot serve the page when the failure says so. */
function failer(lab: LabWindow['__mcpLab'], config: PageConfig, setState: Page['setState']): Page['fail'] {
  return (err) => {
    const message = err instanceof FlowError ? `${err.step ?? 'run'}: ${err.message}` : String(err);
    lab.error = message;
    const reason = unsupportedReason(err, config);
    if (reason) {
      lab.unsupported = reason;
      el('unsupported').hidden = false;
      el('unsupported').textContent = reason;
    }
    setState('failed', `Failed — ${message}`);
  };
}

async function boot(): Promise<void> {
  const page = await loadPage();
  const { setState, saved } = page;
  const runButton = el<HTMLButtonElement>('run');
  runButton.addEventListener('click', () => {
    runButton.disabled = true;
    setState('running', 'Discovering…');
    startRun(page.runner, page.config, (url) => {
      setState('authorizing', 'Redirecting to the authorization server…');
      location.assign(url);
    }).catch(page.fail);
  });

  // The button is disabled in the HTML until now: a click before the page is wired would do nothing.
  if (location.pathname !== PAGE_PATHS.callback) {
    runButton.disabled = false;
    return;
  }
  const callbackUrl = new URL(location.href);
  // The code is single-use and already taken; it should not stay in the address bar or the history.
  history.replaceState(null, '', PAGE_PATHS.home);
  if (!saved) {
    setState('failed', 'An authorization response arrived, but this tab started no authorization: ignored.');
    runButton.disabled = false;
    return;
  }
  runButton.disabled = true;
  await resume(page, saved, callbackUrl);
}

/** Finishes the run the authorization response belongs to, then offers the logout. */
async function resume(page: Page, saved: NonNullable<Page['saved']>, callbackUrl: URL): Promise<void> {
  const { setState, fail } = page;
  setState('running', 'Exchanging the code…');
  let sse: NativeSseTransport;
  try {
    const connected = await resumeRun(page.runner, page.config, saved, callbackUrl);
    sse = connected.sse;
    el('sse-result').textContent = contentText(connected.sseResult);
    el('http-result').textContent = contentText(connected.httpResult);
  } catch (err) {
    fail(err);
    return;
  }
  setState('connected', 'Connected: the SSE stream stays open with the cookie until you log out.');
  const logoutButton = el<HTMLButtonElement>('logout');
  logoutButton.disabled = false;
  logoutButton.addEventListener('click', () => {
    logoutButton.disabled = true;
    setState('running', 'Logging out…');
    logout(page.runner, page.config, sse).then(
      () => setState('logged-out', 'Logged out: the server ended the stream and the cookie no longer works.'),
      fail,
    );
  });
}

boot().catch((err: unknown) => {
  const status = document.getElementById('status');
  if (status) status.textContent = `The page failed to start: ${String(err)}`;
});
