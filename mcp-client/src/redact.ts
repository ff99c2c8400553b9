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

/** `name=abcdef…; other=…` for a Cookie request header: each pair's value cut. */
export function redactCookie(value: string): string {
  return value
    .split(';')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0 ? part : `${part.slice(0, eq)}=${redactToken(part.slice(eq + 1))}`;
    })
    .join(';');
}

/**
 * One Set-Cookie value (RFC 6265 §4.1: exactly one cookie per header field): the name and every attribute as sent,
 * the value replaced by its length only — IdP session and interaction cookies are long and are credentials, so not
 * even a prefix is shown. Must be given one header field at a time (`Headers.getSetCookie()`): joined fields are
 * ambiguous, since an `Expires=Wed, 01 Dec …` attribute contains the comma that would separate them.
 */
export function redactSetCookie(value: string): string {
  const semi = value.indexOf(';');
  const pair = semi < 0 ? value : value.slice(0, semi);
  const attributes = semi < 0 ? '' : value.slice(semi);
  const eq = pair.indexOf('=');
  if (eq < 0) return `…${attributes}`;
  const cookieValue = pair.slice(eq + 1).trim();
  return `${pair.slice(0, eq)}=${cookieValue === '' ? '' : `…(${cookieValue.length} chars)`}${attributes}`;
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

/** Below this length a value is not treated as a secret to search for (it would match ordinary text). */
const MIN_SECRET_LENGTH = 8;

/**
 * The credentials this run holds (access and refresh tokens, authorization codes, code verifiers, client
 * secrets), so that every printed value can be searched for them: a server that echoes a token back in a
 * `WWW-Authenticate` header, an error body or a tool result must not make the client print it.
 */
export class SecretSet {
  readonly #secrets = new Set<string>();
  /** Longest first, so that a secret containing another is replaced whole. */
  #ordered: string[] = [];

  /** Adds a credential; empty and very short values are ignored. */
  remember(value: string | null | undefined): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || this.#secrets.has(value)) return;
    this.#secrets.add(value);
    this.#ordered = [...this.#secrets].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.#secrets.size;
  }

  /** `text` with every occurrence of a known credential (as is, or percent-encoded) cut to six characters. */
  scrub(text: string): string {
    let out = text;
    for (const secret of this.#ordered) {
      const cut = redactToken(secret);
      for (const form of new Set([secret, encodeURIComponent(secret)])) {
        if (out.includes(form)) out = out.split(form).join(cut);
      }
    }
    return out;
  }

  /** A copy of `value` with {@link scrub} applied to every string in it (object keys included). */
  scrubDeep<T>(value: T): T {
    if (this.#ordered.length === 0) return value;
    return this.#deep(value) as T;
  }

  #deep(value: unknown): unknown {
    if (typeof value === 'string') return this.scrub(value);
    if (Array.isArray(value)) return value.map((v) => this.#deep(v));
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.scrub(k), this.#deep(v)]));
    }
    return value;
  }
}
