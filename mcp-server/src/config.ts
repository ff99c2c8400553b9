/**
 * The resource server's configuration, read once from the environment.
 * Every problem is collected and reported together, each naming its variable.
 */
import { canonicalResource } from '@mcp-lab/protocol';

/** How the RS derives a token's permissions (see README): from OAuth scopes, or from one claim through a map. */
export type PermissionSource = { readonly kind: 'scope' } | { readonly kind: 'claim'; readonly claim: string };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** JWS algorithms the RS may be configured to accept: asymmetric only (never `none`, never HS*). */
export const ALLOWED_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
] as const;

export interface RsConfig {
  /** Public origin of the RS, canonical (no trailing slash), e.g. `http://127.0.0.1:3000`. */
  readonly publicUrl: string;
  readonly host: string;
  readonly port: number;
  /** The one issuer whose tokens are accepted (exact `iss` match, RFC 9068 §4). */
  readonly issuer: string;
  /** RFC 9728 `authorization_servers`. */
  readonly authorizationServers: readonly string[];
  /** JWKS URL; undefined = discovered lazily from the issuer's metadata (RFC 8414). */
  readonly jwksUrl: string | undefined;
  /** One refresh (metadata discovery and JWKS) may take at most this long, however many requests wait on it. */
  readonly jwksTimeoutMs: number;
  /** Least time between refetches triggered by a `kid` not in the key set (counted from the last such refetch). */
  readonly jwksCooldownMs: number;
  /** A key set older than this is refreshed (in the background while it is still usable). */
  readonly jwksMaxAgeMs: number;
  /** How long past its max age a key set keeps verifying tokens while refreshes fail (an IdP outage). */
  readonly jwksMaxStaleMs: number;
  /** After a failed refresh, no other attempt for this long (negative caching); lookups answer from what is known. */
  readonly jwksRetryMs: number;
  /** Accepted `aud` values (any one must be present). */
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly permissionsFrom: PermissionSource;
  /** Claim mode only: permission → accepted claim values (`*` = any valid token). */
  readonly permissionMap: Readonly<Record<string, readonly string[]>>;
  readonly scopesSupported: readonly string[];
  /** Origins allowed to call MCP endpoints from a browser (exact `Origin` match). */
  readonly allowedOrigins: readonly string[];
  /** Accepted `Host` values on MCP and session endpoints (DNS-rebinding protection): `host:port`, or `host` = any port. */
  readonly allowedHosts: readonly string[];
  readonly dbPath: string;
  readonly clockSkewS: number;
  /** Most verified access tokens kept (by exact token, until `exp`); 0 = verify every request in full. */
  readonly tokenCacheMaxEntries: number;
  readonly logLevel: LogLevel;
  /**
   * MCP_REDIS_URL: Redis shared by several replicas (cookie sessions, session directory, bus; README
   * "Scale-out"); undefined = one process, everything in memory.
   */
  readonly redisUrl?: string | undefined;
  /** Resource limits (README "Limits"). */
  readonly limits: RsLimits;
}

/** Every bound on what one client or connection may hold or cost; see README "Limits". */
export interface RsLimits {
  readonly notesMaxPerUser: number;
  readonly noteMaxChars: number;
  /** UTF-8 bytes of one user's note texts together. */
  readonly notesMaxBytesPerUser: number;
  /** Most notes in one `notes_list` page (also its default). */
  readonly notesPageSizeMax: number;
  /** An MCP session (Streamable HTTP or HTTP+SSE stream) without a request for this long is closed. */
  readonly sessionIdleTimeoutMs: number;
  /** An MCP session ends this long after it opened, or at its token's `exp` if earlier. */
  readonly sessionMaxLifetimeMs: number;
  /** Streamable HTTP sessions one subject may hold; the next initialize is refused. */
  readonly sessionsMaxPerSubject: number;
  /** HTTP+SSE streams one subject may hold; the next GET /sse is refused. */
  readonly sseStreamsMaxPerSubject: number;
  /** Cookie sessions one subject may hold; a new one replaces the subject's own oldest. */
  readonly cookieSessionsMaxPerSubject: number;
  /** Cookie sessions in all; beyond, POST /session is refused (503) until some expire. */
  readonly cookieSessionsMax: number;
  /** A cookie session ends this long after it was made, or at its token's `exp` if earlier. */
  readonly cookieSessionMaxLifetimeMs: number;
  /** Whole request (headers and body) must arrive within this (Node `requestTimeout`), else 408. */
  readonly requestTimeoutMs: number;
  /** Headers must arrive within this (Node `headersTimeout`), else 408. */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (Node `keepAliveTimeout`). */
  readonly keepAliveTimeoutMs: number;
  /** Largest request body, else 413. */
  readonly bodyLimitBytes: number;
  /** Deepest nesting of arrays and objects in a JSON body, else 400. */
  readonly jsonMaxDepth: number;
  /** Most UTF-8 bytes of note text in one `notes_list` page (at least one note is always returned). */
  readonly notesPageMaxBytes: number;
  /** Requests per second one subject may make on the MCP and session endpoints (token bucket refill), else 429. */
  readonly rateLimitPerS: number;
  /** Requests one subject may make at once before the rate applies (token bucket size). */
  readonly rateLimitBurst: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid resource server configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** The largest note text MCP_NOTE_MAX_CHARS may allow (the tool's schema ceiling). */
export const NOTE_MAX_CHARS_CEILING = 100_000;

/** How one limit is read: its variable, default and accepted range (the README "Limits" table is tested against it). */
export interface LimitSpec {
  readonly env: string;
  readonly defaultValue: number;
  readonly min: number;
  readonly max: number;
}

/** Every field of RsLimits, from its variable (one source of truth for loadConfig, the README and tests). */
export const LIMIT_SPECS: Readonly<Record<keyof RsLimits, LimitSpec>> = Object.freeze({
  notesMaxPerUser: { env: 'MCP_NOTES_MAX_PER_USER', defaultValue: 1_000, min: 1, max: 1_000_000 },
  noteMaxChars: { env: 'MCP_NOTE_MAX_CHARS', defaultValue: 2_000, min: 1, max: NOTE_MAX_CHARS_CEILING },
  notesMaxBytesPerUser: { env: 'MCP_NOTES_MAX_BYTES_PER_USER', defaultValue: 1_048_576, min: 1, max: 1_073_741_824 },
  notesPageSizeMax: { env: 'MCP_NOTES_PAGE_SIZE_MAX', defaultValue: 100, min: 1, max: 10_000 },
  sessionIdleTimeoutMs: { env: 'MCP_SESSION_IDLE_TIMEOUT_MS', defaultValue: 900_000, min: 1_000, max: 86_400_000 },
  sessionMaxLifetimeMs: { env: 'MCP_SESSION_MAX_LIFETIME_MS', defaultValue: 86_400_000, min: 1_000, max: 604_800_000 },
  sessionsMaxPerSubject: { env: 'MCP_SESSIONS_MAX_PER_SUBJECT', defaultValue: 20, min: 1, max: 10_000 },
  sseStreamsMaxPerSubject: { env: 'MCP_SSE_STREAMS_MAX_PER_SUBJECT', defaultValue: 20, min: 1, max: 10_000 },
  cookieSessionsMaxPerSubject: { env: 'MCP_COOKIE_SESSIONS_MAX_PER_SUBJECT', defaultValue: 10, min: 1, max: 1_000 },
  cookieSessionsMax: { env: 'MCP_COOKIE_SESSIONS_MAX', defaultValue: 100_000, min: 1, max: 10_000_000 },
  cookieSessionMaxLifetimeMs: { env: 'MCP_COOKIE_SESSION_MAX_LIFETIME_MS', defaultValue: 43_200_000, min: 1_000, max: 2_592_000_000 },
  requestTimeoutMs: { env: 'MCP_REQUEST_TIMEOUT_MS', defaultValue: 30_000, min: 100, max: 600_000 },
  headersTimeoutMs: { env: 'MCP_HEADERS_TIMEOUT_MS', defaultValue: 10_000, min: 100, max: 600_000 },
  keepAliveTimeoutMs: { env: 'MCP_KEEP_ALIVE_TIMEOUT_MS', defaultValue: 10_000, min: 100, max: 600_000 },
  bodyLimitBytes: { env: 'MCP_BODY_LIMIT_BYTES', defaultValue: 262_144, min: 1_024, max: 104_857_600 },
  jsonMaxDepth: { env: 'MCP_JSON_MAX_DEPTH', defaultValue: 32, min: 2, max: 1_000 },
  notesPageMaxBytes: { env: 'MCP_NOTES_PAGE_MAX_BYTES', defaultValue: 65_536, min: 1, max: 1_073_741_824 },
  rateLimitPerS: { env: 'MCP_RATE_LIMIT_PER_S', defaultValue: 50, min: 1, max: 1_000_000 },
  rateLimitBurst: { env: 'MCP_RATE_LIMIT_BURST', defaultValue: 100, min: 1, max: 1_000_000 },
});


/**
 * Host names that cannot be an attacker's DNS name, so a browser never sends them for a rebound origin; allowed
 * by default on any port (local tools, health checks, `app.inject`).
 */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;

/** `host` or `host:port` in the form a `Host` header carries it (lower case), or undefined when it is not one. */
export function hostValue(raw: string): string | undefined {
  try {
    const u = new URL(`http://${raw}`);
    if (u.username || u.password || u.pathname !== '/' || u.search || u.hash) return undefined;
    return u.port || /:\d+$/.test(raw) ? `${u.hostname}:${u.port || '80'}` : u.hostname;
  } catch {
    return undefined;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Reads the RS configuration from `env` (see the README for every variable and its default).
 * @throws ConfigError listing every bad variable.
 */
export function loadConfig(env: Env): RsConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const httpUrl = (name: string, value: string): string | undefined => {
    try {
      const u = new URL(value);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError('not http(s)');
      if (u.hash) throw new TypeError('has a fragment');
      return u.href;
    } catch (cause) {
      problems.push(`${name}: not an absolute http(s) URL: ${JSON.stringify(value)} (${(cause as Error).message})`);
      return undefined;
    }
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name}: expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return n;
  };

  let publicUrl = 'http://127.0.0.1:3000';
  const rawPublic = get('MCP_PUBLIC_URL');
  if (rawPublic !== undefined) {
    const href = httpUrl('MCP_PUBLIC_URL', rawPublic);
    if (href !== undefined) {
      const u = new URL(href);
      if (u.pathname !== '/' || u.search) problems.push(`MCP_PUBLIC_URL: must be an origin without path or query, got ${JSON.stringify(rawPublic)}`);
      else publicUrl = canonicalResource(u);
    }
  }

  const host = get('MCP_HOST') ?? '127.0.0.1';
  const port = int('MCP_PORT', 3000, 0, 65535);

  let issuer = '';
  const rawIssuer = get('MCP_ISSUER');
  if (rawIssuer === undefined) problems.push('MCP_ISSUER: required (the authorization server issuer identifier)');
  // The issuer is compared as an exact string (RFC 8414 §3.3), so it is kept as given, only checked.
  else if (httpUrl('MCP_ISSUER', rawIssuer) !== undefined) issuer = rawIssuer;

  const rawAs = get('MCP_AUTHORIZATION_SERVERS');
  const authorizationServers: string[] = [];
  if (rawAs === undefined) {
    if (issuer) authorizationServers.push(issuer);
  } else {
    for (const a of list(rawAs)) if (httpUrl('MCP_AUTHORIZATION_SERVERS', a) !== undefined) authorizationServers.push(a);
  }

  const rawJwks = get('MCP_JWKS_URL');
  const jwksUrl = rawJwks === undefined ? undefined : httpUrl('MCP_JWKS_URL', rawJwks);
  const jwksTimeoutMs = int('MCP_JWKS_TIMEOUT_MS', 5000, 1, 120_000);
  const jwksCooldownMs = int('MCP_JWKS_COOLDOWN_MS', 1_000, 0, 3_600_000);
  const jwksMaxAgeMs = int('MCP_JWKS_MAX_AGE_MS', 600_000, 1_000, 86_400_000);
  const jwksMaxStaleMs = int('MCP_JWKS_MAX_STALE_MS', 3_600_000, 0, 604_800_000);
  const jwksRetryMs = int('MCP_JWKS_RETRY_MS', 10_000, 0, 3_600_000);

  const rawAud = get('MCP_AUDIENCE');
  const audiences = rawAud === undefined ? [publicUrl, `${publicUrl}/mcp`, `${publicUrl}/sse`] : list(rawAud);
  if (rawAud !== undefined && audiences.length === 0) problems.push('MCP_AUDIENCE: empty list');

  const rawAlgs = get('MCP_ALGORITHMS');
  const algorithms = rawAlgs === undefined ? ['RS256', 'ES256', 'PS256', 'EdDSA'] : list(rawAlgs);
  const badAlgs = algorithms.filter((a) => !(ALLOWED_ALGORITHMS as readonly string[]).includes(a));
  if (badAlgs.length) problems.push(`MCP_ALGORITHMS: not allowed: ${badAlgs.join(', ')} (allowed: ${ALLOWED_ALGORITHMS.join(', ')})`);
  if (rawAlgs !== undefined && algorithms.length === 0) problems.push('MCP_ALGORITHMS: empty list');

  let permissionsFrom: PermissionSource = { kind: 'scope' };
  const rawFrom = get('MCP_PERMISSIONS_FROM');
  if (rawFrom !== undefined && rawFrom !== 'scope') {
    const m = /^claim:([A-Za-z0-9_.:-]+)$/.exec(rawFrom);
    if (m?.[1]) permissionsFrom = { kind: 'claim', claim: m[1] };
    else problems.push(`MCP_PERMISSIONS_FROM: expected "scope" or "claim:<name>", got ${JSON.stringify(rawFrom)}`);
  }

  const permissionMap: Record<string, string[]> = {};
  const rawMap = get('MCP_PERMISSION_MAP');
  if (rawMap !== undefined) {
    for (const entry of rawMap.split(';').map((s) => s.trim()).filter(Boolean)) {
      const eq = entry.indexOf('=');
      const perm = entry.slice(0, eq).trim();
      const values = list(entry.slice(eq + 1));
      if (eq <= 0 || !perm || values.length === 0) {
        problems.push(`MCP_PERMISSION_MAP: expected "permission=value,value;…", got entry ${JSON.stringify(entry)}`);
        continue;
      }
      permissionMap[perm] = values;
    }
  }
  if (permissionsFrom.kind === 'claim' && rawMap === undefined) {
    problems.push('MCP_PERMISSION_MAP: required when MCP_PERMISSIONS_FROM=claim:<name>');
  }

  const rawScopes = get('MCP_SCOPES_SUPPORTED');
  const scopesSupported = rawScopes === undefined ? ['notes:read', 'notes:write'] : rawScopes.split(/[\s,]+/).filter(Boolean);

  const rawOrigins = get('MCP_ALLOWED_ORIGINS');
  const allowedOrigins: string[] = [];
  if (rawOrigins === undefined) allowedOrigins.push(publicUrl);
  else {
    for (const o of list(rawOrigins)) {
      const href = httpUrl('MCP_ALLOWED_ORIGINS', o);
      if (href !== undefined) allowedOrigins.push(new URL(href).origin);
    }
  }

  const rawHosts = get('MCP_ALLOWED_HOSTS');
  const allowedHosts: string[] = [];
  if (rawHosts === undefined) allowedHosts.push(new URL(publicUrl).host, ...LOOPBACK_HOSTS);
  else {
    for (const h of list(rawHosts)) {
      const normal = hostValue(h);
      if (normal === undefined) problems.push(`MCP_ALLOWED_HOSTS: not a host or host:port: ${JSON.stringify(h)}`);
      else allowedHosts.push(normal);
    }
  }

  const dbPath = get('MCP_DB_PATH') ?? ':memory:';
  const clockSkewS = int('MCP_CLOCK_SKEW_S', 30, 0, 300);
  const tokenCacheMaxEntries = int('MCP_TOKEN_CACHE_SIZE', 10_000, 0, 1_000_000);

  const rawLevel = get('MCP_LOG_LEVEL') ?? 'info';
  let logLevel: LogLevel = 'info';
  if ((LOG_LEVELS as readonly string[]).includes(rawLevel)) logLevel = rawLevel as LogLevel;
  else problems.push(`MCP_LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(rawLevel)}`);

  const rawRedis = get('MCP_REDIS_URL');
  let redisUrl: string | undefined;
  if (rawRedis !== undefined) {
    try {
      const u = new URL(rawRedis);
      if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new TypeError('not redis: or rediss:');
      redisUrl = u.href;
    } catch (cause) {
      // Not echoed: a Redis URL may carry a password.
      problems.push(`MCP_REDIS_URL: expected a redis:// or rediss:// URL (${(cause as Error).message})`);
    }
  }

  const limits = Object.freeze(
    Object.fromEntries(
      Object.entries(LIMIT_SPECS).map(([field, spec]) => [field, int(spec.env, spec.defaultValue, spec.min, spec.max)]),
    ) as unknown as RsLimits,
  );
  // Node refuses a headers timeout above the request timeout; say so here rather than at listen.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    problems.push('MCP_HEADERS_TIMEOUT_MS: must not exceed MCP_REQUEST_TIMEOUT_MS');
  }

  if (problems.length) throw new ConfigError(problems);
  return Object.freeze({
    publicUrl,
    host,
    port,
    issuer,
    authorizationServers: Object.freeze(authorizationServers),
    jwksUrl,
    jwksTimeoutMs,
    jwksCooldownMs,
    jwksMaxAgeMs,
    jwksMaxStaleMs,
    jwksRetryMs,
    audiences: Object.freeze(audiences),
    algorithms: Object.freeze(algorithms),
    permissionsFrom: Object.freeze(permissionsFrom),
    permissionMap: Object.freeze(permissionMap),
    scopesSupported: Object.freeze(scopesSupported),
    allowedOrigins: Object.freeze(allowedOrigins),
    allowedHosts: Object.freeze(allowedHosts),
    dbPath,
    clockSkewS,
    tokenCacheMaxEntries,
    logLevel,
    redisUrl,
    limits,
  });
}
