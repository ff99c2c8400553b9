/**
 * A minimal cookie jar for the headless login drivers (RFC 6265 §5.3/§5.4 host-only cookies, path matching,
 * expiry), so the IdP's login interaction works as it would in a browser.
 */

interface Cookie {
  readonly host: string;
  readonly name: string;
  readonly value: string;
  readonly path: string;
  readonly expiresAt: number | undefined;
}

function defaultPath(url: URL): string {
  const p = url.pathname;
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

export class CookieJar {
  #cookies: Cookie[] = [];

  /** Stores the Set-Cookie fields of a response to `url`. */
  store(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = defaultPath(url);
      let expiresAt: number | undefined;
      for (const attr of attrs) {
        const [k = '', v = ''] = attr.split('=').map((s) => s.trim());
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) path = v;
        else if (key === 'max-age' && /^-?\d+$/.test(v)) expiresAt = Date.now() + Number(v) * 1000;
        else if (key === 'expires' && expiresAt === undefined) {
          const t = Date.parse(v);
          if (!Number.isNaN(t)) expiresAt = t;
        }
      }
      this.#cookies = this.#cookies.filter((c) => !(c.host === url.host && c.name === name && c.path === path));
      if (expiresAt !== undefined && expiresAt <= Date.now()) continue;
      this.#cookies.push({ host: url.host, name, value, path, expiresAt });
    }
  }

  /** The Cookie header for a request to `url`, or undefined. */
  header(url: URL): string | undefined {
    const now = Date.now();
    const matching = this.#cookies
      .filter((c) => c.host === url.host && pathMatches(url.pathname, c.path) && (c.expiresAt === undefined || c.expiresAt > now))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }
}
