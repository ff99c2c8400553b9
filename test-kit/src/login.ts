/**
 * The kit's one headless login driver is the client's (mcp-client/src/login/headless.ts, `--login user:password`):
 * it follows the authorization URL like a browser (manual redirects, cookie jar), fills the IdP's login form
 * (embedded, Dex or Keycloak), submits a consent form if one is shown, and stops at the redirect_uri. This module
 * only watches it work — the URLs it visited and the last page it saw — so that a test can assert on a refusal
 * (a wrong password, an error page) as well as on the authorization response.
 */
import { FlowError } from '../../mcp-client/src/errors.ts';
import type { FetchLike } from '../../mcp-client/src/http.ts';
import { CookieJar } from '../../mcp-client/src/login/cookie-jar.ts';
import { isLoginForm, type LoginDriverName } from '../../mcp-client/src/login/drivers.ts';
import { headlessLogin } from '../../mcp-client/src/login/headless.ts';
import { decodeEntities, parseForms } from '../../mcp-client/src/login/html-form.ts';
import { createStepContext } from '../../mcp-client/src/step-context.ts';

export { CookieJar, type LoginDriverName };

export type LoginOutcome =
  | {
      /** The IdP sent the user agent to the redirect_uri: read `code`, `state`, `iss` or `error` from it. */
      readonly kind: 'redirect';
      readonly location: URL;
      /** Every URL the driver requested, in order; form posts as `POST <url>`. */
      readonly visited: readonly string[];
    }
  | {
      /** The driver stopped at a page: the login form again (credentials refused) or an error page. */
      readonly kind: 'page';
      readonly status: number;
      readonly html: string;
      /** The error text the page shows, if any (e.g. Keycloak's "Invalid username or password."). */
      readonly error: string | undefined;
      /** Why the client's driver stopped there. */
      readonly reason: string;
      readonly visited: readonly string[];
    };

export interface LoginOptions {
  /** The full authorization request URL (client_id, redirect_uri, PKCE, state, …). */
  readonly authorizationUrl: string | URL;
  readonly username: string;
  readonly password: string;
  /** Where the IdP finally redirects (never fetched); default: the request's `redirect_uri` parameter. */
  readonly redirectUri?: string;
  /** The client's `--login-driver`; default `auto` (picked by the form's fields). */
  readonly driver?: LoginDriverName;
  readonly fetch?: typeof fetch;
  /** Shared across logins like a browser's cookie store; default a fresh jar. */
  readonly jar?: CookieJar;
}

/** Logs `username` in through the IdP's pages with the client's driver; see {@link LoginOutcome}. */
export async function browserLogin(opts: LoginOptions): Promise<LoginOutcome> {
  const authorizationUrl = new URL(opts.authorizationUrl);
  const redirectUri = opts.redirectUri ?? authorizationUrl.searchParams.get('redirect_uri');
  if (redirectUri === null) throw new Error(`${authorizationUrl.href} has no redirect_uri and none was given`);
  const visited: string[] = [];
  let page: { readonly status: number; readonly html: string } | undefined;
  const base = opts.fetch ?? fetch;
  const watching: FetchLike = async (input, init) => {
    visited.push(`${init?.method === 'POST' ? 'POST ' : ''}${input instanceof Request ? input.url : String(input)}`);
    page = undefined;
    const res = await base(input, init);
    const redirect = res.status >= 300 && res.status < 400;
    page = redirect ? undefined : { status: res.status, html: await res.clone().text() };
    return res;
  };
  try {
    const location = await headlessLogin(createStepContext(watching), {
      authorizationUrl,
      redirectUri,
      credentials: { username: opts.username, password: opts.password },
      driver: opts.driver ?? 'auto',
      jar: opts.jar ?? new CookieJar(),
    });
    return { kind: 'redirect', location, visited };
  } catch (err) {
    if (!(err instanceof FlowError) || page === undefined) throw err;
    return { kind: 'page', status: page.status, html: page.html, error: pageError(page.html), reason: err.message, visited };
  }
}

/** True when the page is a login form shown again after the credentials were posted (they were refused). */
export function credentialsRefused(outcome: LoginOutcome): boolean {
  return outcome.kind === 'page' && outcome.visited.some((v) => v.startsWith('POST ')) && parseForms(outcome.html).some(isLoginForm);
}

/** The action of the page's login form (the form with a password field), resolved against the page's URL. */
export function loginFormAction(html: string, pageUrl: string | URL): URL {
  const form = parseForms(html).find(isLoginForm);
  if (form === undefined) throw new Error(`no login form on ${String(pageUrl)}`);
  return new URL(form.action || String(pageUrl), pageUrl);
}

// Where the lab's IdPs put the message of a refused login or an error page.
const PAGE_ERRORS = [
  /id="input-error(?:-username|-password)?"[^>]*>([\s\S]*?)<\/(?:div|span)>/i, // Keycloak, login form
  /id="kc-error-message"[^>]*>([\s\S]*?)<\/div>/i, // Keycloak, error page
  /class="[^"]*\bkc-feedback-text\b[^"]*"[^>]*>([\s\S]*?)<\/span>/i, // Keycloak, alert
  /id="login-error"[^>]*>([\s\S]*?)<\/(?:div|p)>/i, // Dex and the embedded IdP, login form
  /role="alert"[^>]*>([\s\S]*?)<\/(?:p|div)>/i, // embedded IdP, error page
];

/** The error text a login or error page shows, tags stripped and entities decoded. */
export function pageError(html: string): string | undefined {
  for (const re of PAGE_ERRORS) {
    const inner = re.exec(html)?.[1];
    if (inner === undefined) continue;
    const text = decodeEntities(inner.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
    if (text !== '') return text;
  }
  return undefined;
}
