/**
 * Redaction of credentials before anything is shown or stored in a step event. Tokens are cut to their first
 * six characters so a person can tell two tokens apart without the output being usable as a credential.
 */

/** First six characters and an ellipsis; short values are fully hidden. */
export function redactToken(token: string): string {
  return token.length <= 6 ? '…' : `${token.slice(0, 6)}…`;
}

/** `Bearer abcdef…`, or the scheme alone for anything unparseable. */
export function redactAuthorization(value: string): string {
  const sp = value.indexOf(' ');
  if (sp < 0) return '…';
  return `${value.slice(0, sp)} ${redactToken(value.slice(sp + 1).trim())}`;
}

/** `name=abcdef…; attrs` for Cookie and Set-Cookie values (each pair's value redacted, attributes kept). */
export function redactCookie(value: string): string {
  return value
    .split(';')
    .map((part, i) => {
      const eq = part.indexOf('=');
      if (eq < 0) return part;
      const name = part.slice(0, eq);
      const lower = name.trim().toLowerCase();
      // Set-Cookie attributes (after the first pair) are not secrets.
      if (i > 0 && ['path', 'expires', 'max-age', 'samesite', 'domain'].includes(lower)) return part;
      return `${name}=${redactToken(part.slice(eq + 1))}`;
    })
    .join(';');
}

const SECRET_QUERY_PARAMS = ['code', 'access_token', 'refresh_token', 'client_secret', 'code_verifier'];

/** A URL with credential-bearing query parameters (an authorization code, mostly) redacted. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  for (const p of SECRET_QUERY_PARAMS) {
    const v = u.searchParams.get(p);
    if (v !== null) u.searchParams.set(p, redactToken(v));
  }
  return u.href;
}
