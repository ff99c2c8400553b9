/**
 * The resource server's configuration, read once from the environment.
 * Every problem is collected and reported together, each naming its variable.
 */
import { canonicalResource } from '@mcp-lab/protocol';
import { ConfigError, ConfigReader, LOG_LEVELS, parseUrl, splitList, type Env, type LogLevel } from '@mcp-lab/protocol/config';

export { ConfigError, LOG_LEVELS, type LogLevel };

/** How the RS derives a token's permissions (see README): from OAuth scopes, or from one claim through a map. */
export type PermissionSource = { readonly kind: 'scope' } | { readonly kind: 'claim'; readonly claim: string };

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
  /** SSE comment keep-alive on 2026-07-28 `subscriptions/listen` streams; 0 = none. */
  readonly listenKeepAliveMs: number;
  /** Most 2026-07-28 `subscriptions/listen` streams open at once. */
  readonly listenMaxStreams: number;
  /** `ttlMs` of 2026-07-28 `tools/list` results (`cacheScope: "private"`). */
  readonly toolsListTtlMs: number;
  /** `ttlMs` of 2026-07-28 `server/discover` results (`cacheScope: "public"`). */
  readonly discoverTtlMs: number;
  /**
   * Conformance mode only: also serve the diagnostic tools the official `conformance server` suite calls
   * (mcp/conformance-fixtures.ts). Adds tools; authentication and every other check stay as they are.
   */
  readonly conformanceFixtures: boolean;
  readonly logLevel: LogLevel;
  /**
   * MCP_REDIS_URL: Redis shared by several replicas (cookie sessions, session directory, bus; README
   * "Scale-out"); undefined = one process, everything in memory.
   */
  readonly redisUrl?: string | undefined;
  /**
   * MCP_DRAIN_DELAY_MS: after SIGTERM/SIGINT, how long the RS keeps serving while its readiness (GET /healthz)
   * answers 503, so that a proxy stops sending it requests before it stops listening (README "Scale-out").
   */
  readonly drainDelayMs: number;
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
  /** 2026-07-28 subscriptions/listen streams one subject may hold on a replica; the next listen is refused. */
  readonly listenStreamsMaxPerSubject: number;
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
  /**
   * At shutdown, how long the requests in flight may take to finish once the RS stopped listening (after the drain
   * delay); then their connections are cut.
   */
  readonly drainTimeoutMs: number;
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
  listenStreamsMaxPerSubject: { env: 'MCP_LISTEN_STREAMS_MAX_PER_SUBJECT', defaultValue: 20, min: 1, max: 10_000 },
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
  drainTimeoutMs: { env: 'MCP_DRAIN_TIMEOUT_MS', defaultValue: 10_000, min: 100, max: 600_000 },
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

/** MCP_PUBLIC_URL: an origin (no path or query), canonical. */
function readPublicUrl(r: ConfigReader): string {
  const u = r.url('MCP_PUBLIC_URL', 'http://127.0.0.1:3000', { shape: 'resource' });
  if (u === undefined) return 'http://127.0.0.1:3000';
  if (u.pathname !== '/' || u.search) {
    r.problem('MCP_PUBLIC_URL', `must be an origin without path or query, got ${JSON.stringify(r.raw('MCP_PUBLIC_URL'))}`);
    return 'http://127.0.0.1:3000';
  }
  return canonicalResource(u);
}

/**
 * MCP_ISSUER, kept exactly as written: `iss` is compared as an exact string (RFC 8414 §3.3), and some IdPs' issuers
 * end in "/" (Auth0), so it is only checked to be an absolute http(s) URL without a fragment.
 */
function readIssuer(r: ConfigReader): string {
  const raw = r.required('MCP_ISSUER', 'the authorization server issuer identifier');
  if (raw === undefined) return '';
  return r.accept('MCP_ISSUER', parseUrl(raw, { shape: 'resource' })) === undefined ? '' : raw;
}

/** The JWKS: where it is and how its cache behaves in steady state and in an IdP outage. */
function readJwks(r: ConfigReader) {
  return {
    jwksUrl: r.url('MCP_JWKS_URL', undefined, { shape: 'resource' })?.href,
    jwksTimeoutMs: r.ms('MCP_JWKS_TIMEOUT_MS', 5000, { min: 1, max: 120_000 }),
    jwksCooldownMs: r.ms('MCP_JWKS_COOLDOWN_MS', 1_000, { min: 0, max: 3_600_000 }),
    jwksMaxAgeMs: r.ms('MCP_JWKS_MAX_AGE_MS', 600_000, { min: 1_000, max: 86_400_000 }),
    jwksMaxStaleMs: r.ms('MCP_JWKS_MAX_STALE_MS', 3_600_000, { min: 0, max: 604_800_000 }),
    jwksRetryMs: r.ms('MCP_JWKS_RETRY_MS', 10_000, { min: 0, max: 3_600_000 }),
  };
}

/** MCP_PERMISSIONS_FROM and, in claim mode, MCP_PERMISSION_MAP (`permission=value,value;…`). */
function readPermissions(r: ConfigReader): Pick<RsConfig, 'permissionsFrom' | 'permissionMap'> {
  let permissionsFrom: PermissionSource = { kind: 'scope' };
  const rawFrom = r.raw('MCP_PERMISSIONS_FROM');
  if (rawFrom !== undefined && rawFrom !== 'scope') {
    const m = /^claim:([A-Za-z0-9_.:-]+)$/.exec(rawFrom);
    if (m?.[1]) permissionsFrom = { kind: 'claim', claim: m[1] };
    else r.problem('MCP_PERMISSIONS_FROM', `expected "scope" or "claim:<name>", got ${JSON.stringify(rawFrom)}`);
  }
  const permissionMap: Record<string, string[]> = {};
  const rawMap = r.raw('MCP_PERMISSION_MAP');
  for (const entry of rawMap === undefined ? [] : splitList(rawMap, 'semicolon')) {
    const eq = entry.indexOf('=');
    const perm = entry.slice(0, eq).trim();
    const values = splitList(entry.slice(eq + 1));
    if (eq <= 0 || !perm || values.length === 0) {
      r.problem('MCP_PERMISSION_MAP', `expected "permission=value,value;…", got entry ${JSON.stringify(entry)}`);
      continue;
    }
    permissionMap[perm] = values;
  }
  r.check('MCP_PERMISSION_MAP', permissionsFrom.kind !== 'claim' || rawMap !== undefined, 'required when MCP_PERMISSIONS_FROM=claim:<name>');
  return { permissionsFrom, permissionMap };
}

/**
 * MCP_REDIS_URL: Redis shared by the replicas (README "Scale-out"), or undefined for one process. A bad value is
 * not echoed: a Redis URL may carry a password.
 */
function readRedisUrl(r: ConfigReader): string | undefined {
  const raw = r.raw('MCP_REDIS_URL');
  if (raw === undefined) return undefined;
  try {
    const u = new URL(raw);
    if (u.protocol === 'redis:' || u.protocol === 'rediss:') return u.href;
    r.problem('MCP_REDIS_URL', 'expected a redis:// or rediss:// URL');
  } catch {
    r.problem('MCP_REDIS_URL', 'expected a redis:// or rediss:// URL (not a URL)');
  }
  return undefined;
}

/** MCP_ALLOWED_HOSTS (DNS-rebinding protection); default the public host and the loopback names. */
function readAllowedHosts(r: ConfigReader, publicUrl: string): string[] {
  return r.list('MCP_ALLOWED_HOSTS', { default: [new URL(publicUrl).host, ...LOOPBACK_HOSTS] }).flatMap((h) => {
    const normal = hostValue(h);
    if (normal === undefined) r.problem('MCP_ALLOWED_HOSTS', `not a host or host:port: ${JSON.stringify(h)}`);
    return normal === undefined ? [] : [normal];
  });
}

/** Every RsLimits field from its LIMIT_SPECS variable. */
function readLimits(r: ConfigReader): RsLimits {
  const limits = Object.fromEntries(
    Object.entries(LIMIT_SPECS).map(([field, spec]) => [field, r.int(spec.env, spec.defaultValue, spec)]),
  ) as unknown as RsLimits;
  // Node refuses a headers timeout above the request timeout; say so here rather than at listen.
  r.check('MCP_HEADERS_TIMEOUT_MS', limits.headersTimeoutMs <= limits.requestTimeoutMs, 'must not exceed MCP_REQUEST_TIMEOUT_MS');
  return limits;
}

/**
 * Reads the RS configuration from `env` (see the README for every variable and its default), with the lab's config
 * toolkit (@mcp-lab/protocol/config).
 * @throws ConfigError listing every bad variable.
 */
export function loadConfig(env: Env): RsConfig {
  const r = new ConfigReader('resource server', env);
  const publicUrl = readPublicUrl(r);
  const issuer = readIssuer(r);
  return r.finish({
    publicUrl,
    host: r.string('MCP_HOST', '127.0.0.1'),
    port: r.port('MCP_PORT', 3000),
    issuer,
    authorizationServers: [...r.urlTextList('MCP_AUTHORIZATION_SERVERS', issuer ? [issuer] : [])],
    ...readJwks(r),
    audiences: [...r.list('MCP_AUDIENCE', { default: [publicUrl, `${publicUrl}/mcp`, `${publicUrl}/sse`] })],
    algorithms: [...r.enumList('MCP_ALGORITHMS', ALLOWED_ALGORITHMS, { default: ['RS256', 'ES256', 'PS256', 'EdDSA'] })],
    ...readPermissions(r),
    scopesSupported: [...r.list('MCP_SCOPES_SUPPORTED', { default: ['notes:read', 'notes:write'], separator: 'comma-or-space' })],
    allowedOrigins: [...new Set(r.urlList('MCP_ALLOWED_ORIGINS', [publicUrl]).map((u) => u.origin))],
    allowedHosts: readAllowedHosts(r, publicUrl),
    dbPath: r.string('MCP_DB_PATH', ':memory:'),
    clockSkewS: r.int('MCP_CLOCK_SKEW_S', 30, { min: 0, max: 300 }),
    tokenCacheMaxEntries: r.int('MCP_TOKEN_CACHE_SIZE', 10_000, { min: 0, max: 1_000_000 }),
    listenKeepAliveMs: r.int('MCP_LISTEN_KEEPALIVE_MS', 15_000, { min: 0, max: 3_600_000 }),
    listenMaxStreams: r.int('MCP_LISTEN_MAX_STREAMS', 1024, { min: 1, max: 1_000_000 }),
    toolsListTtlMs: r.int('MCP_TOOLS_LIST_TTL_MS', 300_000, { min: 0, max: 86_400_000 }),
    discoverTtlMs: r.int('MCP_DISCOVER_TTL_MS', 3_600_000, { min: 0, max: 86_400_000 }),
    conformanceFixtures: r.bool('MCP_CONFORMANCE_FIXTURES', false),
    logLevel: r.oneOf('MCP_LOG_LEVEL', LOG_LEVELS, 'info'),
    redisUrl: readRedisUrl(r),
    // 0: no proxy to wait for (one process); behind one, at least its health check's time to take a replica out.
    drainDelayMs: r.ms('MCP_DRAIN_DELAY_MS', 0, { min: 0, max: 600_000 }),
    limits: readLimits(r),
  });
}
