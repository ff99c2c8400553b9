/**
 * Drives Dex's local password connector without a browser, the way a user agent would:
 *
 *   GET  {issuer}/auth?…                         302 → {issuer}/auth/local?…   (only one connector: no selection page)
 *   GET  {issuer}/auth/local?…                   302 → {issuer}/auth/local/login?back=&state=<auth request id>
 *   GET  {issuer}/auth/local/login?back=&state=… 200 HTML form, fields `login` and `password`
 *   POST same URL (form action), x-www-form-urlencoded login=…&password=…
 *        ok:    303 → redirect_uri?code=…&state=…  (skipApprovalScreen: no /approval step; no RFC 9207 `iss`)
 *        wrong: 401 HTML form again with <div id="login-error">Invalid Email Address and password.</div>
 *
 * Dex sets no cookies on this path; Locations are absolute paths on the public origin.
 */

export type DexLoginOutcome =
  | { readonly kind: 'redirected'; readonly location: URL; readonly visited: readonly string[] }
  | { readonly kind: 'rejected'; readonly status: number; readonly html: string; readonly visited: readonly string[] };

const MAX_HOPS = 10;

function decodeHtmlAttribute(v: string): string {
  return v.replace(/&amp;/g, '&').replace(/&#34;|&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** The action of the password form, resolved against the page it came from. */
export function passwordFormAction(html: string, pageUrl: string): URL {
  const form = /<form\b[^>]*\baction="([^"]*)"/i.exec(html);
  if (!form?.[1]) throw new Error(`no form with an action on ${pageUrl}`);
  if (!/\bname="login"/.test(html) || !/\bname="password"/.test(html)) {
    throw new Error(`the form on ${pageUrl} has no login/password fields`);
  }
  return new URL(decodeHtmlAttribute(form[1]), pageUrl);
}

/**
 * Follows Dex's redirects from the authorization URL to the password form, submits it, and returns where Dex
 * sends the browser next (the client's redirect_uri with code and state), or the re-rendered form on failure.
 */
export async function dexPasswordLogin(
  authorizationUrl: URL,
  redirectUri: string,
  login: string,
  password: string,
): Promise<DexLoginOutcome> {
  const visited: string[] = [];
  let url = authorizationUrl;
  let page: Response | undefined;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    visited.push(url.href);
    const res = await fetch(url, { redirect: 'manual' });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const location = new URL(res.headers.get('location') ?? '', url);
      if (location.href.startsWith(redirectUri)) return { kind: 'redirected', location, visited };
      url = location;
      continue;
    }
    page = res;
    break;
  }
  if (!page) throw new Error(`more than ${MAX_HOPS} redirects from ${authorizationUrl.href}`);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`${url.href} answered ${page.status}: ${html.slice(0, 300)}`);

  const action = passwordFormAction(html, url.href);
  visited.push(`POST ${action.href}`);
  const posted = await fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login, password }),
  });
  if (posted.status >= 300 && posted.status < 400) {
    await posted.body?.cancel();
    const location = new URL(posted.headers.get('location') ?? '', action);
    if (location.href.startsWith(redirectUri)) return { kind: 'redirected', location, visited };
    // An approval screen would land here; the lab config skips it.
    throw new Error(`after login Dex redirected to ${location.href}, not to ${redirectUri}`);
  }
  return { kind: 'rejected', status: posted.status, html: await posted.text(), visited };
}
