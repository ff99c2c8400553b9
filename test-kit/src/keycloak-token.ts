/**
 * Tokens from the lab's Keycloak for tests that need a real one: authorization code + PKCE S256 (RFC 7636) through
 * the headless login, then the token request (RFC 6749 §4.1.3) as the public client mcp-lab-cli.
 */
import { createHash, randomBytes } from 'node:crypto';
import { freePort } from './free-port.ts';
import { keycloakHeadlessLogin } from './keycloak-login.ts';
import { KEYCLOAK_CLIENT_ID } from './keycloak-server.ts';

export interface KeycloakTokenOptions {
  /** `http://127.0.0.1:<port>/realms/mcp-lab` */
  readonly issuer: string;
  readonly username: string;
  readonly password: string;
  /** Default `openid notes:read notes:write`. */
  readonly scope?: string;
}

export interface KeycloakTokens {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly id_token?: string;
  readonly scope: string;
  readonly expires_in: number;
}

/** Logs the user in headlessly and redeems the code; throws with Keycloak's answer when any step fails. */
export async function keycloakTokens(opts: KeycloakTokenOptions): Promise<KeycloakTokens> {
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  const state = randomBytes(12).toString('base64url');
  const auth = new URL(`${opts.issuer}/protocol/openid-connect/auth`);
  auth.search = new URLSearchParams({
    response_type: 'code',
    client_id: KEYCLOAK_CLIENT_ID,
    redirect_uri: redirectUri,
    scope: opts.scope ?? 'openid notes:read notes:write',
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const result = await keycloakHeadlessLogin({ authorizationUrl: auth, username: opts.username, password: opts.password });
  if (result.kind === 'page') throw new Error(`Keycloak login failed (${result.status}): ${result.error ?? 'no error text'}`);
  const params = result.location.searchParams;
  const code = params.get('code');
  if (code === null || params.get('state') !== state) {
    throw new Error(`Keycloak authorization failed: ${params.get('error') ?? 'no code'} ${params.get('error_description') ?? ''}`);
  }
  const res = await fetch(`${opts.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: KEYCLOAK_CLIENT_ID,
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`Keycloak token request failed (${res.status}): ${JSON.stringify(body)}`);
  }
  return body as unknown as KeycloakTokens;
}
