/**
 * The web app's one validated configuration. `loadConfig(env)` is the only reader of the environment.
 *
 * | Variable | Default | Meaning |
 * | --- | --- | --- |
 * | WEB_HOST / WEB_PORT | 127.0.0.1 / 3100 | listen address |
 * | WEB_PUBLIC_URL | http://127.0.0.1:<WEB_PORT> | the page's origin (an allowed origin of the RS, a redirect URI origin at the IdP) |
 * | WEB_RS_URL | http://127.0.0.1:3000 | the MCP resource server's origin |
 * | WEB_IDP_NAME | embedded | the IdP profile's name, shown on the page |
 * | WEB_CLIENT_ID | — | a pre-registered client_id (else CIMD or DCR) |
 * | WEB_CLIENT_CONFIDENTIAL | false | the pre-registered client has a secret (a browser cannot keep one: the page says so) |
 * | WEB_CLIENT_METADATA_URL | — | an https Client ID Metadata Document URL |
 * | WEB_LOG_LEVEL | info | pino level |
 */
import type { PageConfig } from './page-config.ts';

export interface WebConfig {
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  readonly logLevel: string;
  readonly page: PageConfig;
}

export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid web configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Reads and checks every WEB_* variable; one error names every bad one. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): WebConfig {
  const problems: string[] = [];
  const origin = (name: string, value: string): string => {
    const u = URL.parse(value);
    if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== value.replace(/\/$/, '')) {
      problems.push(`${name} must be an http(s) origin without a path, got ${JSON.stringify(value)}`);
      return value;
    }
    return u.origin;
  };
  const host = env.WEB_HOST ?? '127.0.0.1';
  const port = Number(env.WEB_PORT ?? '3100');
  const portOk = Number.isInteger(port) && port >= 0 && port <= 65535;
  if (!portOk) problems.push(`WEB_PORT must be a TCP port, got ${JSON.stringify(env.WEB_PORT)}`);
  // The default follows the port; a bad port is reported once, above.
  const publicUrl = env.WEB_PUBLIC_URL !== undefined ? origin('WEB_PUBLIC_URL', env.WEB_PUBLIC_URL) : `http://127.0.0.1:${portOk ? port : 3100}`;
  const rsUrl = origin('WEB_RS_URL', env.WEB_RS_URL ?? 'http://127.0.0.1:3000');
  const logLevel = env.WEB_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`WEB_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const confidential = env.WEB_CLIENT_CONFIDENTIAL ?? 'false';
  if (confidential !== 'true' && confidential !== 'false') problems.push('WEB_CLIENT_CONFIDENTIAL must be true or false');
  let registration: PageConfig['registration'] = { method: 'dcr' };
  if (env.WEB_CLIENT_ID !== undefined && env.WEB_CLIENT_ID !== '') {
    registration = { method: 'pre-registered', clientId: env.WEB_CLIENT_ID, confidential: confidential === 'true' };
  } else if (env.WEB_CLIENT_METADATA_URL !== undefined && env.WEB_CLIENT_METADATA_URL !== '') {
    const u = URL.parse(env.WEB_CLIENT_METADATA_URL);
    if (u === null || u.protocol !== 'https:' || u.pathname === '/') problems.push('WEB_CLIENT_METADATA_URL must be an https URL with a path');
    registration = { method: 'cimd', clientMetadataUrl: env.WEB_CLIENT_METADATA_URL };
  }
  if (problems.length) throw new WebConfigError(problems);
  return Object.freeze({
    host,
    port,
    publicUrl,
    logLevel,
    page: Object.freeze({ rsUrl, idpName: env.WEB_IDP_NAME ?? 'embedded', registration }),
  });
}
