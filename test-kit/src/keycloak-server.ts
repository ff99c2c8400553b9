/**
 * A real Keycloak for a test file: the lab's own launcher (launcher/src/idp/keycloak.ts), with its output captured
 * the way processes.ts captures a service's, on a free port, from the cache only (never downloads).
 */
import {
  captureSink,
  cachedKeycloakHome,
  KEYCLOAK_CLIENT_ID,
  KEYCLOAK_REALM,
  startKeycloakIdp,
  type RunningKeycloakIdp,
} from '@mcp-lab/launcher';
import { freePort } from './free-port.ts';
import { obtainToken, type ObtainedToken } from './tokens.ts';

export { KEYCLOAK_CLIENT_ID, KEYCLOAK_REALM };

/** The cached Keycloak home, or undefined when scripts/ensure-keycloak.sh has not provided it (use with requirePrereq). */
export const keycloakHome = (): string | undefined => cachedKeycloakHome();

export interface KeycloakOptions {
  /** HTTP port on 127.0.0.1; a free one when absent. */
  readonly port?: number;
  /** RS origin whose identifiers (origin, /mcp, /sse) go into `aud`; default http://127.0.0.1:3000. */
  readonly rsUrl?: string;
  readonly readyTimeoutMs?: number;
}

export interface RunningKeycloak extends RunningKeycloakIdp {
  /** Everything Keycloak wrote so far. */
  output(): string;
}

/** Starts Keycloak with the mcp-lab realm; resolves once the realm's discovery document and JWKS answer 200. */
export async function startKeycloak(opts: KeycloakOptions = {}): Promise<RunningKeycloak> {
  const home = keycloakHome();
  if (home === undefined) throw new Error('Keycloak is not in the cache: run scripts/ensure-keycloak.sh first');
  const sink = captureSink();
  try {
    const kc = await startKeycloakIdp({
      port: opts.port ?? (await freePort()),
      home,
      log: sink.stream,
      ...(opts.rsUrl === undefined ? {} : { rsUrl: opts.rsUrl }),
      ...(opts.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: opts.readyTimeoutMs }),
    });
    return { ...kc, output: sink.text };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- keycloak output ---\n${sink.text()}`, { cause: err });
  }
}

export interface KeycloakTokenOptions {
  /** `http://127.0.0.1:<port>/realms/mcp-lab` */
  readonly issuer: string;
  readonly username: string;
  readonly password: string;
  /** Default `openid notes:read notes:write`. */
  readonly scope?: string;
}

/** Tokens for the public client mcp-lab-cli: OpenID discovery, code + PKCE S256, the headless login, the token request. */
export function keycloakTokens(opts: KeycloakTokenOptions): Promise<ObtainedToken> {
  return obtainToken({
    issuer: opts.issuer,
    discovery: 'oidc',
    clientId: KEYCLOAK_CLIENT_ID,
    scope: opts.scope ?? 'openid notes:read notes:write',
    username: opts.username,
    password: opts.password,
    driver: 'keycloak',
  });
}
