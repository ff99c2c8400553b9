/**
 * Headless login against Keycloak's own login form (theme keycloak.v2, Keycloak 26), for tests and the CLI's
 * `--login-driver keycloak`. What a browser would do, step by step:
 *
 * 1. GET the authorization URL (RFC 6749 §4.1.1). Keycloak answers 200 with the login page and sets the cookies
 *    AUTH_SESSION_ID, KC_AUTH_SESSION_HASH and KC_RESTART (Path=/realms/<realm>/, marked Secure even on http).
 *    A request it refuses but can redirect (e.g. PKCE missing) is a 302 straight to redirect_uri with `error`.
 * 2. The page holds `<form id="kc-form-login" action="…/login-actions/authenticate?session_code=…&amp;execution=…
 *    &amp;client_id=…&amp;tab_id=…&amp;client_data=…" method="post">` with the fields `username`, `password` and a
 *    hidden `credentialId`.
 * 3. POST the form (x-www-form-urlencoded) with the cookies. Right password: 302 to redirect_uri with `state`,
 *    `session_state`, `iss` (RFC 9207) and `code`. Wrong password: 200, the same form again (a fresh session_code)
 *    with "Invalid username or password." in `#input-error-username`.
 *
 * Redirects inside Keycloak's origin are followed by hand (cookies kept); the first redirect elsewhere (the
 * client's redirect_uri) ends the login and is returned, never fetched. The page is read with two anchored regular
 * expressions rather than an HTML parser: the markup is Keycloak's fixed template, and the project has no parser
 * dependency worth adding for two attributes.
 */
import { CookieJar } from '../../mcp-client/src/login/cookie-jar.ts';

export type KeycloakLoginResult =
  | {
      /** Keycloak sent the user agent to the client's redirect_uri: read `code`, `state`, `iss` or `error` from it. */
      readonly kind: 'redirect';
      readonly location: URL;
    }
  | {
      /** Keycloak answered with a page instead of a redirect: the login form again, or an error page. */
      readonly kind: 'page';
      readonly status: number;
      /** The text of the page's error message, if it shows one (e.g. "Invalid username or password."). */
      readonly error: string | undefined;
      readonly html: string;
    };

export interface KeycloakLoginOptions {
  readonly authorizationUrl: string | URL;
  readonly username: string;
  readonly password: string;
  readonly fetch?: typeof fetch;
  /** Upper bound on redirects followed inside Keycloak; default 10. */
  readonly maxRedirects?: number;
}

/** The login form found in a Keycloak page. */
export interface KeycloakLoginForm {
  /** Absolute URL of `…/login-actions/authenticate?session_code=…&execution=…&client_id=…&tab_id=…`. */
  readonly action: URL;
  readonly method: string;
}

/**
 * Logs `username` in through Keycloak's login page for an authorization request and returns where Keycloak sends the
 * user agent (RFC 6749 §4.1.2 authorization response), or the page it shows instead.
 */
export async function keycloakHeadlessLogin(opts: KeycloakLoginOptions): Promise<KeycloakLoginResult> {
  const doFetch = opts.fetch ?? fetch;
  const jar = new CookieJar();
  const start = new URL(opts.authorizationUrl);
  const maxRedirects = opts.maxRedirects ?? 10;
  let redirects = 0;

  const cookieFor = (u: URL): Record<string, string> => {
    const value = jar.header(u);
    return value === undefined ? {} : { cookie: value };
  };
  // Sends a request and follows redirects that stay on Keycloak's origin.
  const send = async (url: URL, init: RequestInit): Promise<Response | URL> => {
    let res = await doFetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...cookieFor(url) } });
    for (;;) {
      jar.store(url, res);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || location === null) return res;
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.origin !== start.origin) return next;
      if (++redirects > maxRedirects) throw new Error(`more than ${maxRedirects} redirects inside ${start.origin}`);
      url = next;
      res = await doFetch(next, { redirect: 'manual', headers: cookieFor(next) });
    }
  };

  const first = await send(start, { method: 'GET' });
  if (first instanceof URL) return { kind: 'redirect', location: first };
  const html = await first.text();
  const form = parseKeycloakLoginForm(html, new URL(first.url === '' ? start : first.url));
  if (form === undefined) return { kind: 'page', status: first.status, error: parseKeycloakPageError(html), html };

  const body = new URLSearchParams({ username: opts.username, password: opts.password, credentialId: '' });
  const second = await send(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  if (second instanceof URL) return { kind: 'redirect', location: second };
  const page = await second.text();
  return { kind: 'page', status: second.status, error: parseKeycloakPageError(page), html: page };
}

/** Finds Keycloak's login form (`id="kc-form-login"`) and its action URL (HTML entities decoded). */
export function parseKeycloakLoginForm(html: string, base: URL): KeycloakLoginForm | undefined {
  const tag = /<form\b[^>]*\bid="kc-form-login"[^>]*>/i.exec(html)?.[0];
  if (tag === undefined) return undefined;
  const action = /\baction="([^"]*)"/i.exec(tag)?.[1];
  if (action === undefined) return undefined;
  const method = /\bmethod="([^"]*)"/i.exec(tag)?.[1] ?? 'post';
  return { action: new URL(decodeHtml(action), base), method: method.toLowerCase() };
}

/**
 * The error a Keycloak page shows: the field error of the login form (`#input-error-username`, "Invalid username or
 * password.") or the alert of an error page (`#kc-error-message`, e.g. "Invalid parameter: redirect_uri").
 */
export function parseKeycloakPageError(html: string): string | undefined {
  const patterns = [
    /id="input-error(?:-username|-password)?"[^>]*>([\s\S]*?)<\/div>/i,
    /id="kc-error-message"[^>]*>([\s\S]*?)<\/div>/i,
    /class="[^"]*\bkc-feedback-text\b[^"]*"[^>]*>([\s\S]*?)<\/span>/i,
  ];
  for (const re of patterns) {
    const inner = re.exec(html)?.[1];
    if (inner === undefined) continue;
    const text = decodeHtml(inner.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
    if (text !== '') return text;
  }
  return undefined;
}

function decodeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (_m, e: string) => {
    const lower = e.toLowerCase();
    if (lower === 'amp') return '&';
    if (lower === 'lt') return '<';
    if (lower === 'gt') return '>';
    if (lower === 'quot') return '"';
    if (lower === 'apos' || lower === '#39') return "'";
    return String.fromCodePoint(lower.startsWith('#x') ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10));
  });
}
