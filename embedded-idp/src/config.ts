import { randomBytes } from 'node:crypto';
import { ConfigError, ConfigReader, LOG_LEVELS, parseOneOf, parseUrl, type Env, type LogLevel } from '@mcp-lab/protocol/config';

export { ConfigError, type LogLevel };

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

export type IdpEnv = Env;

export const DEFAULT_RESOURCES = ['http://127.0.0.1:3000', 'http://127.0.0.1:3000/mcp', 'http://127.0.0.1:3000/sse'] as const;
export const DEFAULT_SCOPES = ['notes:read', 'notes:write'] as const;
/** Scopes oidc-provider handles itself; not resource scopes. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'email', 'profile'] as const;

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

/** IDP_ISSUER, or the loopback origin on IDP_PORT; kept exactly as written (RFC 8414 §2: no query, fragment or "/"). */
function readIssuer(r: ConfigReader, port: number): string {
  return r.urlText('IDP_ISSUER', `http://127.0.0.1:${port}`, { shape: 'issuer' });
}

/** IDP_RESOURCES: RFC 8707 resource indicators (absolute http(s) URLs without a fragment), kept as written. */
function readResources(r: ConfigReader): string[] {
  return r.list('IDP_RESOURCES', { default: DEFAULT_RESOURCES, separator: 'comma-or-space' }).filter((item) => {
    const parsed = parseUrl(item, { shape: 'resource' });
    if (!parsed.ok) r.problem('IDP_RESOURCES', `entry ${parsed.problem}`);
    return parsed.ok;
  });
}

/** IDP_SCOPES (resource scopes, RFC 6749 §3.3 tokens, none of the built-in ones) and IDP_DEFAULT_SCOPE among them. */
function readScopes(r: ConfigReader): Pick<IdpConfig, 'scopes' | 'defaultScope'> {
  const scopes = [...r.list('IDP_SCOPES', { default: DEFAULT_SCOPES, separator: 'comma-or-space' })];
  for (const s of scopes) {
    if (!SCOPE_TOKEN.test(s)) r.problem('IDP_SCOPES', `entry ${JSON.stringify(s)} is not a valid scope token`);
    else if ((OIDC_SCOPES as readonly string[]).includes(s)) r.problem('IDP_SCOPES', `must not repeat the built-in scope ${s}`);
  }
  const defaultScope = [...r.list('IDP_DEFAULT_SCOPE', { default: [scopes[0] ?? DEFAULT_SCOPES[0]], separator: 'comma-or-space' })];
  for (const s of defaultScope) {
    r.check(
      'IDP_DEFAULT_SCOPE',
      scopes.includes(s) || (OIDC_SCOPES as readonly string[]).includes(s),
      `entry ${JSON.stringify(s)} is not one of IDP_SCOPES or ${OIDC_SCOPES.join(', ')}`,
    );
  }
  return { scopes, defaultScope };
}

/** IDP_CIMD_TRUSTED_ORIGINS: https origins (a trailing "/" tolerated); client_id URLs are https only. */
function readCimdOrigins(r: ConfigReader): string[] {
  return r.list('IDP_CIMD_TRUSTED_ORIGINS', { default: [], separator: 'comma-or-space' }).flatMap((o) => {
    const parsed = parseUrl(o.replace(/\/$/, ''), { protocols: ['https:'], shape: 'origin' });
    if (parsed.ok) return [parsed.value.origin];
    r.problem('IDP_CIMD_TRUSTED_ORIGINS', `entry ${JSON.stringify(o)} must be an https origin (client_id URLs are https only)`);
    return [];
  });
}

/** IDP_COOKIE_KEYS (newest first, 16 characters at least), or one random key per process. */
function readCookieKeys(r: ConfigReader): string[] {
  const keys = r.list('IDP_COOKIE_KEYS', { default: [randomBytes(32).toString('base64url')] });
  r.check('IDP_COOKIE_KEYS', keys.every((k) => k.length >= 16), 'entries must be at least 16 characters each');
  return [...keys];
}

/** IDP_LOG_LEVEL, in any case. */
function readLogLevel(r: ConfigReader): LogLevel {
  const level = r.raw('IDP_LOG_LEVEL')?.toLowerCase();
  return level === undefined ? 'info' : (r.accept('IDP_LOG_LEVEL', parseOneOf(level, LOG_LEVELS)) ?? 'info');
}

/**
 * Reads the IdP configuration from `env` (normally `process.env`) with the lab's config toolkit. Every problem is
 * collected and reported at once in a {@link ConfigError} naming the variable; the result is frozen.
 */
export function loadConfig(env: IdpEnv): IdpConfig {
  const r = new ConfigReader('embedded IdP', env);
  const port = r.port('IDP_PORT', 4000);
  return r.finish({
    issuer: readIssuer(r, port),
    host: r.string('IDP_HOST', '127.0.0.1'),
    port,
    resources: readResources(r),
    ...readScopes(r),
    cimdTrustedOrigins: readCimdOrigins(r),
    cimdCaFile: r.raw('IDP_CIMD_CA_FILE'),
    accessTokenTtlS: r.int('IDP_ACCESS_TOKEN_TTL_S', 600, { min: 1, max: 86_400 }),
    refreshTokenTtlS: r.int('IDP_REFRESH_TOKEN_TTL_S', 86_400, { min: 1, max: 30 * 86_400 }),
    cookieKeys: readCookieKeys(r),
    signingKeyFile: r.raw('IDP_SIGNING_KEY_FILE'),
    logLevel: readLogLevel(r),
  });
}
