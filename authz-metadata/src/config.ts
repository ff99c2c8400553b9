import { fileURLToPath } from 'node:url';
import { ConfigReader, LOG_LEVELS, type Env, type LogLevel } from '@mcp-lab/protocol/config';
import { QUIRK_NAMES, type QuirkName } from './quirks/catalogue.ts';

export type { LogLevel };

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
  /** Quirks the fault-injecting layer applies (AUTHZ_METADATA_QUIRKS, comma list; see quirks/catalogue.ts). */
  readonly quirks: readonly QuirkName[];
  readonly logLevel: LogLevel;
}

const DEFAULT_UPSTREAM = 'http://127.0.0.1:5558';

/**
 * Reads the service's settings from the environment. Every problem is collected into one ConfigError that names
 * the variable; the result is frozen. The document itself is read by loadMetadataDocument.
 */
export function loadConfig(env: Env): Readonly<AuthzMetadataConfig> {
  const r = new ConfigReader('authz-metadata', env);
  // The IdP on loopback; paths are forwarded unchanged, so the upstream is an origin only.
  const upstream = r.url('AUTHZ_METADATA_UPSTREAM', DEFAULT_UPSTREAM, { protocols: ['http:'] });
  if (upstream) {
    r.check(
      'AUTHZ_METADATA_UPSTREAM',
      upstream.pathname === '/' && !upstream.search && !upstream.hash && !upstream.username,
      `must be a bare origin; paths are forwarded unchanged, got "${r.raw('AUTHZ_METADATA_UPSTREAM') ?? ''}"`,
    );
  }
  const config: AuthzMetadataConfig = {
    host: r.string('AUTHZ_METADATA_HOST', '127.0.0.1'),
    port: r.port('AUTHZ_METADATA_PORT', 5556),
    upstream: upstream ?? new URL(DEFAULT_UPSTREAM),
    issuer: r.urlText('AUTHZ_METADATA_ISSUER', 'http://127.0.0.1:5556/dex', { shape: 'issuer' }),
    documentPath: r.string('AUTHZ_METADATA_DOCUMENT', DEFAULT_DOCUMENT_PATH),
    metadataEnabled: r.bool('AUTHZ_METADATA_ENABLED', true),
    quirks: r.enumList('AUTHZ_METADATA_QUIRKS', QUIRK_NAMES, { default: [], separator: 'comma-or-space', nonEmpty: false }),
    logLevel: r.oneOf('AUTHZ_METADATA_LOG_LEVEL', LOG_LEVELS, 'info'),
  };
  return r.finish(config);
}
