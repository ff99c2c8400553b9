/**
 * A headless user agent for the lab: it follows the authorization URL like a browser (manual redirects, cookie
 * jar), fills the IdP's login form with `--login user:password`, submits a consent form if one is shown, and
 * stops at the redirect to the loopback redirect_uri. Credentials go only to the authorization endpoint's origin.
 */
import { FlowError, messageOf } from '../errors.ts';
import type { StepContext } from '../step-context.ts';
import { CookieJar } from './cookie-jar.ts';
import { isLoginForm, loginFields, type LoginDriverName } from './drivers.ts';
import { decodeEntities, parseForms, type HtmlForm } from './html-form.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface HeadlessLoginInput {
  readonly authorizationUrl: URL;
  readonly redirectUri: string;
  readonly credentials: Credentials | undefined;
  readonly driver: LoginDriverName;
  /** Shared across authorizations of one run, like a browser's cookie store (the IdP session survives a step-up). */
  readonly jar: CookieJar;
}

const MAX_HOPS = 25;
const APPROVE = /^(approve|accept|allow|yes|consent|confirm|submit|continue)$/i;

function isRedirectTarget(url: URL, redirectUri: string): boolean {
  const r = new URL(redirectUri);
  return url.origin === r.origin && url.pathname === r.pathname;
}

/** The next request of the login: where, and with which method and form body. */
interface Hop {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly body?: URLSearchParams;
}

/** What one login has done so far. */
interface LoginState {
  readonly asOrigin: string;
  credentialsSent: boolean;
  consentsSent: number;
}

/** Runs the login; returns the URL the authorization server redirected to (the authorization response). */
export async function headlessLogin(ctx: StepContext, input: HeadlessLoginInput): Promise<URL> {
  const state: LoginState = { asOrigin: input.authorizationUrl.origin, credentialsSent: false, consentsSent: 0 };
  let hop: Hop = { url: input.authorizationUrl, method: 'GET' };
  for (let i = 0; i < MAX_HOPS; i++) {
    const response = await send(ctx, input.jar, hop);
    const next = response.status >= 300 && response.status < 400 ? await redirect(ctx, input, hop.url, response) : await answerPage(ctx, input, state, hop.url, response);
    if (next instanceof URL) return next;
    hop = next;
  }
  throw new FlowError(`login: more than ${MAX_HOPS} redirects without reaching the redirect_uri`);
}

async function send(ctx: StepContext, jar: CookieJar, hop: Hop): Promise<Response> {
  const headers: Record<string, string> = { accept: 'text/html,application/xhtml+xml' };
  const cookie = jar.header(hop.url);
  if (cookie) headers.cookie = cookie;
  if (hop.body) headers['content-type'] = 'application/x-www-form-urlencoded';
  let response: Response;
  try {
    response = await ctx.fetch(hop.url, { method: hop.method, headers, body: hop.body, redirect: 'manual' });
  } catch (cause) {
    throw new FlowError(`login: cannot reach ${hop.url.origin}: ${messageOf(cause)}`, { cause });
  }
  jar.store(hop.url, response);
  return response;
}

/** A redirect: the authorization response when it goes to the redirect_uri, else the next GET. */
async function redirect(ctx: StepContext, input: HeadlessLoginInput, url: URL, response: Response): Promise<URL | Hop> {
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (!location) throw new FlowError(`login: HTTP ${response.status} from ${url.origin} without a Location`);
  const next = new URL(location, url);
  if (!isRedirectTarget(next, input.redirectUri)) return { url: next, method: 'GET' };
  ctx.record({ name: 'redirected to the loopback redirect_uri', ok: true, detail: `${next.origin}${next.pathname}` });
  return next;
}

/** A page: the login form (filled once), a consent form (submitted), or an error. */
async function answerPage(ctx: StepContext, input: HeadlessLoginInput, state: LoginState, url: URL, response: Response): Promise<Hop> {
  const text = await response.text();
  const forms = parseForms(text);
  const login = forms.find(isLoginForm);
  // The login form again after the credentials were posted means they were refused; IdPs answer that with
  // 200 (embedded, Keycloak) or 401 (Dex).
  if (login && state.credentialsSent) {
    throw new FlowError(`login failed at ${state.asOrigin}: invalid credentials`, {
      hint: 'check the user name and password given with --login user:password',
    });
  }
  if (response.status !== 200) {
    throw new FlowError(`login: ${url.origin} answered HTTP ${response.status}: ${snippet(text)}`, {
      hint: 'the authorization server rejected the authorization request; see its message',
      ...(namesUnknownClient(text) ? { code: 'invalid-client' as const } : {}),
    });
  }
  if (login) return submitLogin(ctx, input, state, url, login);
  const posts = forms.filter((f) => f.method === 'post');
  // Prefer the form that approves (Dex's approval page has an approve and a reject form).
  const consent = posts.find((f) => [...f.fields, ...f.buttons].some((x) => APPROVE.test(x.value))) ?? posts[0];
  if (consent && state.consentsSent < 3) {
    const action = formAction(consent, url);
    if (action.origin !== state.asOrigin) throw new FlowError(`login: a form posts to ${action.origin}, outside the authorization server; stopping`);
    const body = formBody(consent);
    const button = consent.buttons.find((b) => APPROVE.test(b.value) || APPROVE.test(b.name)) ?? consent.buttons[0];
    if (button) body.set(button.name, button.value);
    ctx.record({ name: 'consent form submitted', ok: true, detail: `${action.origin}${action.pathname}` });
    state.consentsSent++;
    return { url: action, method: 'POST', body };
  }
  throw new FlowError(`login: ${url.origin}${url.pathname} shows a page the headless driver does not understand: ${snippet(text)}`, {
    hint: 'log in with a browser instead (omit --login)',
  });
}

/** Fills the login form with `--login user:password`; credentials go only to the authorization server's origin. */
function submitLogin(ctx: StepContext, input: HeadlessLoginInput, state: LoginState, url: URL, login: HtmlForm): Hop {
  if (!input.credentials) {
    throw new FlowError(`login: ${url.origin} shows a login form but no credentials were given`, {
      hint: 'pass --login user:password, or run without it to log in in a browser',
    });
  }
  const fields = loginFields(input.driver, login);
  if (!fields) {
    throw new FlowError(`login: the form at ${url.origin}${url.pathname} is not a ${input.driver} login form (fields: ${login.fields.map((f) => f.name).join(', ')})`, {
      hint: 'choose another --login-driver (auto, embedded, dex, keycloak)',
    });
  }
  const action = formAction(login, url);
  if (action.origin !== state.asOrigin) {
    throw new FlowError(`login: the login form posts to ${action.origin}, not to the authorization server ${state.asOrigin}; refusing to send credentials there`);
  }
  if (login.method !== 'post') throw new FlowError('login: the login form uses GET; refusing to put credentials in a URL');
  const body = formBody(login);
  body.set(fields.user, input.credentials.username);
  body.set(fields.password, input.credentials.password);
  ctx.record({ name: `login form (${fields.driver})`, ok: true, detail: `${action.origin}${action.pathname} as ${input.credentials.username}` });
  state.credentialsSent = true;
  return { url: action, method: 'POST', body };
}

/**
 * An authorization endpoint that does not know the client_id must not redirect (RFC 6749 §4.1.2.1): it shows the
 * person an error page, which is the only place the `invalid_client` code appears. Read once, here, at the
 * boundary, so the orchestrator can switch on the error's code.
 */
function namesUnknownClient(html: string): boolean {
  return /\binvalid_client\b/.test(html);
}

function formAction(form: HtmlForm, page: URL): URL {
  return new URL(form.action || page.href, page);
}

function formBody(form: HtmlForm): URLSearchParams {
  const body = new URLSearchParams();
  for (const f of form.fields) if (f.type !== 'password') body.set(f.name, f.value);
  return body;
}

function snippet(html: string): string {
  const body = /<body\b[^>]*>([\s\S]*)<\/body>/i.exec(html)?.[1] ?? html;
  const text = decodeEntities(
    body
      .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
