import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The checked-in document for the default Dex issuer. */
export const DEFAULT_DOCUMENT_PATH = fileURLToPath(new URL('../dex-metadata.json', import.meta.url));

export interface AuthzMetadataConfig {
  /** Address to listen on (AUTHZ_METADATA_HOST). */
  readonly host: string;
  /** Port to listen on (AUTHZ_METADATA_PORT); this is the issuer's public origin. */
  readonly port: number;
  /** Where every path but the metadata document goes (AUTHZ_METADATA_UPSTREAM), e.g. Dex on 127.0.0.1:5558. */
  readonly upstream: URL;
  /** The authorization server's issuer, exactly as it puts it in `iss` (AUTHZ_METADATA_ISSUER). */
  readonly issuer: string;
  /** The RFC 8414 document to serve (AUTHZ_METADATA_DOCUMENT). */
  readonly documentPath: string;
  /** False: serve no metadata, be a pure proxy (AUTHZ_METADATA_ENABLED). */
  readonly metadataEnabled: boolean;
  readonly logLevel: LogLevel;
}

function parseUrl(problems: string[], name: string, value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    problems.push(`${name} must be an absolute URL, got "${value}"`);
    return undefined;
  }
}

/**
 * Reads the service's settings from the environment. Every problem is collected into one ConfigError that names
 * the variable; the result is frozen. The document itself is read by loadMetadataDocument.
 */
export function loadConfig(env: NodeJS.ProcessEnv): AuthzMetadataConfig {
  const problems: string[] = [];

  const host = env.AUTHZ_METADATA_HOST || '127.0.0.1';

  const portText = env.AUTHZ_METADATA_PORT || '5556';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) {
    problems.push(`AUTHZ_METADATA_PORT must be a port number 0-65535, got "${portText}"`);
  }

  const upstreamText = env.AUTHZ_METADATA_UPSTREAM || 'http://127.0.0.1:5558';
  const upstream = parseUrl(problems, 'AUTHZ_METADATA_UPSTREAM', upstreamText);
  if (upstream) {
    if (upstream.protocol !== 'http:') {
      problems.push(`AUTHZ_METADATA_UPSTREAM must be an http: URL (the IdP on loopback), got "${upstreamText}"`);
    }
    if (upstream.pathname !== '/' || upstream.search || upstream.hash || upstream.username) {
      problems.push(`AUTHZ_METADATA_UPSTREAM must be a bare origin; paths are forwarded unchanged, got "${upstreamText}"`);
    }
  }

  const issuer = env.AUTHZ_METADATA_ISSUER || 'http://127.0.0.1:5556/dex';
  const issuerUrl = parseUrl(problems, 'AUTHZ_METADATA_ISSUER', issuer);
  if (issuerUrl) {
    if (issuerUrl.protocol !== 'http:' && issuerUrl.protocol !== 'https:') {
      problems.push(`AUTHZ_METADATA_ISSUER must be http(s), got "${issuer}"`);
    }
    // RFC 8414 §2: no query or fragment.
    if (issuerUrl.search || issuerUrl.hash) {
      problems.push(`AUTHZ_METADATA_ISSUER must have no query or fragment (RFC 8414 §2), got "${issuer}"`);
    }
  }

  const documentPath = env.AUTHZ_METADATA_DOCUMENT || DEFAULT_DOCUMENT_PATH;

  const enabledText = (env.AUTHZ_METADATA_ENABLED || 'true').toLowerCase();
  if (enabledText !== 'true' && enabledText !== 'false') {
    problems.push(`AUTHZ_METADATA_ENABLED must be true or false, got "${env.AUTHZ_METADATA_ENABLED}"`);
  }

  const logLevel = (env.AUTHZ_METADATA_LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`AUTHZ_METADATA_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  if (problems.length > 0 || !upstream) throw new ConfigError(problems);
  return Object.freeze({
    host,
    port,
    upstream,
    issuer,
    documentPath,
    metadataEnabled: enabledText === 'true',
    logLevel,
  });
}
