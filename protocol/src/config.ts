/**
 * The lab's configuration toolkit, shared by every service, the CLI, the bench and the scripts: read a variable,
 * parse it (URLs with `new URL`, enums against literal lists, integer ranges, comma lists), collect every problem
 * into one ConfigError that names the variable, and return a frozen object.
 *
 * Hand-written rather than a validation library (zod, valibot, envalid) on purpose, and small: this package
 * stays dependency-free (the client's start-up and the RS import it), the inputs are only strings from the
 * environment, the checks that matter are protocol rules no library knows (an RFC 8414 issuer has no query or
 * fragment, an allowed origin is a bare origin, an RFC 8707 resource has no fragment), and each message must
 * name the variable in the lab's words — with a library every message would be rewritten anyway.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** pino's levels, which every service's Fastify logger takes (`…_LOG_LEVEL`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A configuration that cannot be used; `problems` has one line per problem, each `VARIABLE: what is wrong`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** What was being configured, e.g. "resource server". */
  readonly subject: string;
  readonly problems: readonly string[];
  constructor(subject: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`invalid ${subject} configuration:\n  - ${problems.join('\n  - ')}`, options);
    this.subject = subject;
    this.problems = Object.freeze([...problems]);
  }
}

/** A parsed value, or why the text is not one (without the variable's name: the reader adds it). */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(problem: string): Parsed<T> => ({ ok: false, problem });
const quote = (s: string) => JSON.stringify(s);

export interface IntRange {
  readonly min: number;
  readonly max: number;
}

/** A non-negative decimal integer within [min, max] (no sign, no exponent, no fraction). */
export function parseInteger(text: string, range: IntRange): Parsed<number> {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < range.min || n > range.max) {
    return bad(`must be an integer from ${range.min} to ${range.max}, got ${quote(text)}`);
  }
  return ok(n);
}

/** `true` or `false`, in any case. */
export function parseBoolean(text: string): Parsed<boolean> {
  const t = text.toLowerCase();
  if (t === 'true' || t === 'false') return ok(t === 'true');
  return bad(`must be true or false, got ${quote(text)}`);
}

/** One of a literal list (case-sensitive). */
export function parseOneOf<T extends string>(text: string, choices: readonly T[]): Parsed<T> {
  const found = choices.find((c) => c === text);
  return found === undefined ? bad(`must be one of ${choices.join(', ')}, got ${quote(text)}`) : ok(found);
}

export interface UrlRules {
  /** Allowed schemes; default http: and https:. */
  readonly protocols?: readonly string[];
  /**
   * - `origin`: exactly the serialization of an origin (RFC 6454 §6.2: scheme://host[:port], lower case, no
   *   trailing "/"), as a browser sends it in `Origin` and as CORS compares it;
   * - `issuer`: no query or fragment, no trailing "/" (RFC 8414 §2; issuers are compared as exact strings);
   * - `resource`: no fragment (RFC 8707 §2);
   * - `any`: any absolute URL with an allowed scheme.
   */
  readonly shape?: 'origin' | 'issuer' | 'resource' | 'any';
}

/** An absolute URL (`new URL`), with an allowed scheme and the shape asked for. */
export function parseUrl(text: string, rules: UrlRules = {}): Parsed<URL> {
  const u = URL.parse(text);
  if (u === null) return bad(`must be an absolute URL, got ${quote(text)}`);
  const protocols = rules.protocols ?? ['http:', 'https:'];
  if (!protocols.includes(u.protocol)) return bad(`must be a ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL, got ${quote(text)}`);
  switch (rules.shape ?? 'any') {
    case 'origin':
      if (text !== u.origin) return bad(`must be a bare origin (scheme://host[:port], as in an Origin header), got ${quote(text)}`);
      break;
    case 'issuer':
      if (u.search || u.hash || text.includes('?') || text.includes('#')) return bad(`must have no query or fragment (RFC 8414 §2), got ${quote(text)}`);
      if (text.endsWith('/')) return bad(`must have no trailing slash (issuers are compared as exact strings), got ${quote(text)}`);
      break;
    case 'resource':
      if (u.hash || text.includes('#')) return bad(`must have no fragment (RFC 8707 §2), got ${quote(text)}`);
      break;
    case 'any':
      break;
  }
  return ok(u);
}

/** How a list variable separates its items. */
export type ListSeparator = 'comma' | 'comma-or-space' | 'semicolon';

const SEPARATORS: Readonly<Record<ListSeparator, string | RegExp>> = { comma: ',', 'comma-or-space': /[\s,]+/, semicolon: ';' };

/**
 * Splits a list on commas, on commas and white space (scope lists), or on semicolons (lists of entries that
 * hold commas, e.g. `permission=a,b;other=c`), trimming items and dropping empty ones.
 */
export function splitList(text: string, separator: ListSeparator = 'comma'): string[] {
  return text
    .split(SEPARATORS[separator])
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A value as deepFreeze returns it: read-only all the way down. */
export type Frozen<T> = T extends URL ? T : T extends readonly (infer E)[] ? readonly Frozen<E>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;

/** Freezes plain objects and arrays all the way down (class instances such as URL are left as they are). */
export function deepFreeze<T>(value: T): Frozen<T> {
  if (Array.isArray(value) || (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype)) {
    for (const v of Object.values(value as object)) deepFreeze(v);
    Object.freeze(value);
  }
  return value as Frozen<T>;
}

export interface ListOptions {
  readonly default: readonly string[];
  readonly separator?: ListSeparator;
  /** Refuse a set but empty list (default true). */
  readonly nonEmpty?: boolean;
}

/**
 * Reads variables from one environment and collects their problems. Each getter returns a usable value (the
 * default when the variable is unset, empty, or invalid) so that reading goes on; `finish` throws one
 * ConfigError naming every bad variable, or returns the configuration frozen.
 */
export class ConfigReader {
  readonly #subject: string;
  readonly #env: Env;
  readonly #problems: string[] = [];

  constructor(subject: string, env: Env) {
    this.#subject = subject;
    this.#env = env;
  }

  /** The trimmed value; undefined when unset or empty. */
  raw(name: string): string | undefined {
    const v = this.#env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  }

  /** Records a problem with `name`. */
  problem(name: string, message: string): void {
    this.#problems.push(`${name}: ${message}`);
  }

  /** Records `message` for `name` unless `condition` holds. */
  check(name: string, condition: boolean, message: string): void {
    if (!condition) this.problem(name, message);
  }

  /** The value of a parse, or undefined after recording its problem for `name`. */
  accept<T>(name: string, parsed: Parsed<T>): T | undefined {
    if (parsed.ok) return parsed.value;
    this.problem(name, parsed.problem);
    return undefined;
  }

  /** Free text (a host, a path), or the fallback when unset. */
  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** A variable that must be set; `what` says what it is for. */
  required(name: string, what: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined) this.problem(name, `is required (${what})`);
    return v;
  }

  /** An integer in range; name the unit in the variable (`…_S`, `…_MS`, `…_SIZE`). */
  int(name: string, fallback: number, range: IntRange): number {
    const v = this.raw(name);
    return v === undefined ? fallback : (this.accept(name, parseInteger(v, range)) ?? fallback);
  }

  /** A duration in milliseconds (the variable's name says so: `…_MS`), as an integer in range. */
  ms(name: string, fallbackMs: number, range: IntRange): number {
    return this.int(name, fallbackMs, range);
  }

  /** A TCP port, 0 (any free port) to 65535. */
  port(name: string, fallback: number): number {
    return this.int(name, fallback, { min: 0, max: 65_535 });
  }

  /** `true` or `false`. */
  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    return v === undefined ? fallback : (this.accept(name, parseBoolean(v)) ?? fallback);
  }

  /** One value of a literal list (an enum such as a log level). */
  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const v = this.raw(name);
    return v === undefined ? fallback : (this.accept(name, parseOneOf(v, choices)) ?? fallback);
  }

  /**
   * A URL, or the fallback (written by the programmer, so valid) when unset; undefined when the variable is set but
   * invalid, or unset without a fallback.
   */
  url(name: string, fallback: string | undefined, rules: UrlRules = {}): URL | undefined {
    const v = this.raw(name);
    if (v === undefined) return fallback === undefined ? undefined : new URL(fallback);
    return this.accept(name, parseUrl(v, rules));
  }

  /**
   * A URL kept exactly as written (an issuer is compared as an exact string, RFC 8414 §3.3, so it is checked,
   * not normalized). Returns the fallback when unset or invalid.
   */
  urlText(name: string, fallback: string, rules: UrlRules = {}): string {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    return this.accept(name, parseUrl(v, rules)) === undefined ? fallback : v;
  }

  /** A list of items (comma separated by default). */
  list(name: string, options: ListOptions): readonly string[] {
    const v = this.raw(name);
    if (v === undefined) return options.default;
    const items = splitList(v, options.separator);
    if (items.length === 0 && options.nonEmpty !== false) this.problem(name, 'must list at least one item');
    return items;
  }

  /** A list whose items come from a literal list; the items off it are reported together, in one problem. */
  enumList<T extends string>(name: string, choices: readonly T[], options: ListOptions & { readonly default: readonly T[] }): readonly T[] {
    const items = this.list(name, options);
    const known = items.filter((i): i is T => choices.some((c) => c === i));
    const unknown = items.filter((i) => !choices.some((c) => c === i));
    if (unknown.length > 0) this.problem(name, `not allowed: ${unknown.join(', ')} (allowed: ${choices.join(', ')})`);
    return known;
  }

  /** A comma-separated list of URLs, each checked; invalid entries are reported and left out. */
  urlList(name: string, fallback: readonly string[], rules: UrlRules = {}): readonly URL[] {
    const items = this.list(name, { default: fallback });
    return items.flatMap((item) => {
      const parsed = parseUrl(item, rules);
      if (parsed.ok) return [parsed.value];
      this.problem(name, `entry ${parsed.problem}`);
      return [];
    });
  }

  /** Like urlList, but each URL kept exactly as written (issuers, resource indicators: compared as strings). */
  urlTextList(name: string, fallback: readonly string[], rules: UrlRules = {}): readonly string[] {
    return this.list(name, { default: fallback }).filter((item) => {
      const parsed = parseUrl(item, rules);
      if (!parsed.ok) this.problem(name, `entry ${parsed.problem}`);
      return parsed.ok;
    });
  }

  /** A JSON object; undefined when unset or invalid. */
  jsonObject(name: string): Record<string, unknown> | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (err) {
      this.problem(name, `is not JSON: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    this.problem(name, 'must be a JSON object');
    return undefined;
  }

  /** The problems so far. */
  get problems(): readonly string[] {
    return [...this.#problems];
  }

  /** Throws one ConfigError with every problem, or returns `config` deeply frozen. */
  finish<T extends object>(config: T): Frozen<T> {
    if (this.#problems.length > 0) throw new ConfigError(this.#subject, this.#problems);
    return deepFreeze(config);
  }
}
