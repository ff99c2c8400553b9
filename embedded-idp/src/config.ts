import { randomBytes } from 'node:crypto';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Everything the embedded IdP needs, read once from the environment by {@link loadConfig}. */
export interface IdpConfig {
  /** Issuer identifier (RFC 8414 §2); exactly what the metadata, tokens and `iss` responses carry. */
  readonly issuer: string;
  readonly host: string;
  readonly port: number;
  /** RFC 8707 resource indicators clients may ask tokens for; each becomes the `aud` of its tokens. */
  readonly resources: readonly string[];
  /** Resource scopes the IdP grants (in addition to openid, offline_access, email, profile). */
  readonly scopes: readonly string[];
  /** Scopes an authorization request without `scope` is processed with (RFC 6749 §3.3); among `scopes`. */
  readonly defaultScope: readonly string[];
  /**
   * https origins on loopback or private addresses the IdP may fetch Client ID Metadata Documents from (a lab hosting
   * its client's document locally); every other client_id URL must resolve to a public address (SSRF protection).
   */
  readonly cimdTrustedOrigins: readonly string[];
  /** PEM file of extra CA certificates trusted for Client ID Metadata Document fetches (a lab's self-signed host). */
  readonly cimdCaFile: string | undefined;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  /** Keys that sign the IdP's cookies (newest first); random per process when IDP_COOKIE_KEYS is unset. */
  readonly cookieKeys: readonly string[];
  /** Path of a JSON file holding a private JWK or JWK Set; keys are generated at start when unset. */
  readonly signingKeyFile: string | undefined;
  readonly logLevel: LogLevel;
}

export type IdpEnv = Readonly<Record<string, string | undefined>>;

/** Thrown by {@link loadConfig}; `problems` names each offending variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid embedded IdP configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export const DEFAULT_RESOURCES = ['http://127.0.0.1:3000', 'http://127.0.0.1:3000/mcp', 'http://127.0.0.1:3000/sse'] as const;
export const DEFAULT_SCOPES = ['notes:read', 'notes:write'] as const;
/** Scopes oidc-provider handles itself; not resource scopes. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'email', 'profile'] as const;

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

function list(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Reads the IdP configuration from `env` (normally `process.env`). Every problem is collected and reported at
 * once in a {@link ConfigError} naming the variable; the result is frozen.
 */
export function loadConfig(env: IdpEnv): IdpConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return n;
  };

  const host = get('IDP_HOST') ?? '127.0.0.1';
  const port = int('IDP_PORT', 4000, 0, 65535);

  let issuer = `http://127.0.0.1:${port}`;
  const rawIssuer = get('IDP_ISSUER');
  if (rawIssuer !== undefined) {
    const u = URL.parse(rawIssuer);
    if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      problems.push(`IDP_ISSUER must be an absolute http(s) URL (got ${JSON.stringify(rawIssuer)})`);
    } else if (u.search !== '' || u.hash !== '' || rawIssuer.includes('?') || rawIssuer.includes('#')) {
      // RFC 8414 §2: the issuer has no query or fragment component.
      problems.push('IDP_ISSUER must not have a query or fragment');
    } else if (rawIssuer.endsWith('/')) {
      problems.push('IDP_ISSUER must not end with "/" (clients compare issuers by exact string)');
    } else {
      issuer = rawIssuer;
    }
  }

  const resources: string[] = [];
  const rawResources = get('IDP_RESOURCES');
  for (const r of rawResources === undefined ? DEFAULT_RESOURCES : list(rawResources)) {
    const u = URL.parse(r);
    if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      problems.push(`IDP_RESOURCES entry ${JSON.stringify(r)} is not an absolute http(s) URL`);
    } else if (r.includes('#')) {
      // RFC 8707 §2: a resource indicator must not include a fragment.
      problems.push(`IDP_RESOURCES entry ${JSON.stringify(r)} must not have a fragment`);
    } else {
      resources.push(r);
    }
  }
  if (rawResources !== undefined && list(rawResources).length === 0) problems.push('IDP_RESOURCES must name at least one resource');

  const rawScopes = get('IDP_SCOPES');
  const scopes = rawScopes === undefined ? [...DEFAULT_SCOPES] : list(rawScopes);
  for (const s of scopes) {
    if (!SCOPE_TOKEN.test(s)) problems.push(`IDP_SCOPES entry ${JSON.stringify(s)} is not a valid scope token`);
    else if ((OIDC_SCOPES as readonly string[]).includes(s)) problems.push(`IDP_SCOPES must not repeat the built-in scope ${s}`);
  }
  if (rawScopes !== undefined && scopes.length === 0) problems.push('IDP_SCOPES must name at least one scope');

  const rawDefault = get('IDP_DEFAULT_SCOPE');
  const defaultScope = rawDefault === undefined ? [scopes[0] ?? DEFAULT_SCOPES[0]] : list(rawDefault);
  for (const s of defaultScope) {
    if (!scopes.includes(s) && !(OIDC_SCOPES as readonly string[]).includes(s)) {
      problems.push(`IDP_DEFAULT_SCOPE entry ${JSON.stringify(s)} is not one of IDP_SCOPES or ${OIDC_SCOPES.join(', ')}`);
    }
  }

  const cimdTrustedOrigins: string[] = [];
  for (const o of list(get('IDP_CIMD_TRUSTED_ORIGINS') ?? '')) {
    const u = URL.parse(o);
    if (u === null || u.protocol !== 'https:' || u.origin !== o.replace(/\/$/, '')) {
      problems.push(`IDP_CIMD_TRUSTED_ORIGINS entry ${JSON.stringify(o)} must be an https origin (client_id URLs are https only)`);
    } else {
      cimdTrustedOrigins.push(u.origin);
    }
  }

  const accessTokenTtlS = int('IDP_ACCESS_TOKEN_TTL_S', 600, 1, 86_400);
  const refreshTokenTtlS = int('IDP_REFRESH_TOKEN_TTL_S', 86_400, 1, 30 * 86_400);

  const rawKeys = get('IDP_COOKIE_KEYS');
  let cookieKeys: string[];
  if (rawKeys === undefined) {
    cookieKeys = [randomBytes(32).toString('base64url')];
  } else {
    cookieKeys = rawKeys.split(',').map((k) => k.trim());
    if (cookieKeys.some((k) => k.length < 16)) problems.push('IDP_COOKIE_KEYS entries must be at least 16 characters each');
  }

  const logLevel = (get('IDP_LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`IDP_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(logLevel)})`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    issuer,
    host,
    port,
    resources: Object.freeze(resources),
    scopes: Object.freeze(scopes),
    defaultScope: Object.freeze(defaultScope),
    cimdTrustedOrigins: Object.freeze(cimdTrustedOrigins),
    cimdCaFile: get('IDP_CIMD_CA_FILE'),
    accessTokenTtlS,
    refreshTokenTtlS,
    cookieKeys: Object.freeze(cookieKeys),
    signingKeyFile: get('IDP_SIGNING_KEY_FILE'),
    logLevel: logLevel as LogLevel,
  });
}
