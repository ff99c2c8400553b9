/**
 * The `WWW-Authenticate` grammar of RFC 9110 §11.6.1, parsed and serialized without regex soup.
 *
 *   challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param  = token BWS "=" BWS ( token / quoted-string )
 *
 * A header may carry several challenges separated by commas, and a comma also separates a challenge's
 * parameters; a new challenge starts where a token is followed by whitespace and then something that is not "=".
 * List elements must be separated by commas (empty elements are skipped, RFC 9110 §5.6.1.2): anything else
 * after a parameter or token68 is a syntax error, never silently a new challenge.
 */

export interface Challenge {
  /** The auth-scheme as sent; compare case-insensitively (RFC 9110 §11.1). */
  readonly scheme: string;
  /** Parameter names lower-cased (they are case-insensitive), values unquoted. */
  readonly params: Readonly<Record<string, string>>;
  readonly token68?: string;
}

export class WwwAuthenticateSyntaxError extends Error {
  override readonly name = 'WwwAuthenticateSyntaxError';
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.position = position;
  }
}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const TOKEN68_CHAR = /^[A-Za-z0-9\-._~+/]$/;

function isTchar(c: string | undefined): boolean {
  return c !== undefined && TCHAR.test(c);
}

class Cursor {
  pos = 0;
  readonly s: string;
  constructor(s: string) {
    this.s = s;
  }
  peek(offset = 0): string | undefined {
    return this.s[this.pos + offset];
  }
  done(): boolean {
    return this.pos >= this.s.length;
  }
  skipWs(): number {
    const start = this.pos;
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
    return this.pos - start;
  }
  token(): string {
    const start = this.pos;
    while (isTchar(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }
  fail(message: string): never {
    throw new WwwAuthenticateSyntaxError(message, this.pos);
  }
}

function readQuoted(c: Cursor): string {
  c.pos++; // opening quote
  let out = '';
  for (;;) {
    const ch = c.peek();
    if (ch === undefined) c.fail('unterminated quoted-string');
    c.pos++;
    if (ch === '"') return out;
    if (ch === '\\') {
      const next = c.peek();
      if (next === undefined) c.fail('unterminated quoted-pair');
      out += next;
      c.pos++;
      continue;
    }
    out += ch;
  }
}

/** Skips the list separators (and the empty list elements RFC 9110 §5.6.1.2 allows) that follow a list element. */
function skipCommas(c: Cursor): void {
  for (;;) {
    c.skipWs();
    if (c.peek() !== ',') return;
    c.pos++;
  }
}

/** Ends a list element: only whitespace, then a comma or the end of the value, may follow it. */
function endElement(c: Cursor, what: string): void {
  c.skipWs();
  if (!c.done() && c.peek() !== ',') c.fail(`expected "," after ${what}`);
  skipCommas(c);
}

/** True when the cursor sits on `token BWS "="`: in a parameter list that can only be an auth-param. */
function atParamName(c: Cursor): boolean {
  let i = c.pos;
  while (isTchar(c.s[i])) i++;
  if (i === c.pos) return false;
  while (c.s[i] === ' ' || c.s[i] === '\t') i++;
  return c.s[i] === '=';
}

/** Right after the scheme: true on `token BWS "=" value`, false on a token68 ending in "=" padding. */
function atAuthParam(c: Cursor): boolean {
  if (!atParamName(c)) return false;
  const i = c.s.indexOf('=', c.pos);
  // token68 may end in "=" padding; a param's "=" is followed by a value, never by another "=" or the end.
  let j = i + 1;
  while (c.s[j] === '=') j++;
  if (j > i + 1) return false;
  while (c.s[j] === ' ' || c.s[j] === '\t') j++;
  return c.s[j] !== undefined && c.s[j] !== ',';
}

/** Reads `#auth-param` into `params`; stops at the end or where the next challenge's scheme begins. */
function readParams(c: Cursor, params: Record<string, string>): void {
  for (;;) {
    const name = c.token().toLowerCase();
    c.skipWs();
    if (c.peek() !== '=') c.fail('expected "=" after parameter name');
    c.pos++;
    c.skipWs();
    let v: string;
    if (c.peek() === '"') v = readQuoted(c);
    else {
      v = c.token();
      if (!v) c.fail(`expected a value for parameter "${name}"`);
    }
    if (Object.hasOwn(params, name)) c.fail(`parameter "${name}" repeated`);
    params[name] = v;
    endElement(c, `parameter "${name}"`);
    if (c.done() || !atParamName(c)) return;
  }
}

/**
 * Parses a `WWW-Authenticate` field value into its challenges (RFC 9110 §11.6.1).
 * Several field lines may be joined with ", " before calling.
 * @throws WwwAuthenticateSyntaxError when the value does not follow the grammar.
 */
export function parseWwwAuthenticate(value: string): Challenge[] {
  const c = new Cursor(value);
  const challenges: Challenge[] = [];
  skipCommas(c);
  while (!c.done()) {
    const scheme = c.token();
    if (!scheme) c.fail('expected an auth-scheme');
    const params: Record<string, string> = {};
    let token68: string | undefined;
    const ws = c.skipWs();
    if (c.done()) {
      // a scheme without parameters ends the value
    } else if (c.peek() === ',') {
      // `#auth-param` may begin with empty list elements ("Bearer , realm=x"); otherwise the next challenge follows.
      skipCommas(c);
      if (ws > 0 && atParamName(c)) readParams(c, params);
    } else if (ws === 0) {
      c.fail('expected whitespace or "," after the auth-scheme');
    } else if (atAuthParam(c)) {
      readParams(c, params);
    } else {
      const start = c.pos;
      while (TOKEN68_CHAR.test(c.peek() ?? '')) c.pos++;
      while (c.peek() === '=') c.pos++;
      if (c.pos === start) c.fail('expected token68 or auth-param');
      token68 = value.slice(start, c.pos);
      endElement(c, 'token68');
    }
    challenges.push(token68 === undefined ? { scheme, params } : { scheme, params, token68 });
  }
  return challenges;
}

/** Finds the first challenge for a scheme, compared case-insensitively. */
export function findChallenge(challenges: readonly Challenge[], scheme: string): Challenge | undefined {
  const wanted = scheme.toLowerCase();
  return challenges.find((ch) => ch.scheme.toLowerCase() === wanted);
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}

/**
 * Serializes one challenge. Values are always sent as quoted-strings, which RFC 6750 §3 requires for its
 * parameters, in the order given.
 */
export function serializeChallenge(scheme: string, params: Readonly<Record<string, string | undefined>>): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(scheme)) throw new TypeError(`invalid auth-scheme ${scheme}`);
  const parts: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new TypeError(`invalid auth-param name ${name}`);
    // RFC 6750 §3: error, error_description and scope exclude '"' and '\'; quoting keeps others safe.
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new TypeError(`control character in auth-param ${name}`);
    parts.push(`${name}=${quote(value)}`);
  }
  return parts.length ? `${scheme} ${parts.join(', ')}` : scheme;
}
