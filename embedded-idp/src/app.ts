import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { type ClientMetadata, type Configuration, type JWK } from 'oidc-provider';
import { pino, type Logger } from 'pino';
import { findAccount, userBySub } from './accounts.ts';
import { OIDC_SCOPES, type IdpConfig } from './config.ts';
import { clientIdMetadataDocumentFeature, labFetch } from './client-id-metadata.ts';
import { clientScopePolicy, defaultScope } from './client-scopes.ts';
import { clientBasedCors, registrationCors } from './cors.ts';
import { interactionHandler } from './interactions.ts';
import { errorPage } from './login-page.ts';
import { loadSigningKeys } from './keys.ts';
import { createMemoryAdapter } from './memory-adapter.ts';
import { resourceIndicators } from './resources.ts';

export { loadConfig, ConfigError, type IdpConfig, type IdpEnv } from './config.ts';
export { DEMO_USERS } from './accounts.ts';
export { INVALID_CREDENTIALS } from './login-page.ts';

/** Client id of the pre-registered public native client (the lab CLI). */
export const CLI_CLIENT_ID = 'mcp-lab-cli';

/**
 * The lab CLI's pre-registration: a public native client (RFC 8252) whose loopback redirect URIs match on any port
 * (§7.3; oidc-provider ignores the port of loopback redirects for `application_type: native`).
 */
export const CLI_CLIENT: Readonly<ClientMetadata> = Object.freeze<ClientMetadata>({
  client_id: CLI_CLIENT_ID,
  client_name: 'MCP lab CLI',
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
});

export interface IdpDeps {
  readonly logger?: Logger;
  /** Private JWK Set to sign with; otherwise from `config.signingKeyFile` or generated. */
  readonly signingKeys?: { keys: JWK[] };
}

export interface Idp {
  /** Serves every IdP route; hand it to `http.createServer`. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly provider: Provider;
  readonly issuer: string;
  readonly logger: Logger;
}

const REGISTRATION_PATH = '/reg';
const AUTHORIZATION_PATH = '/auth';

/** The pino logger of the IdP; cookie and authorization headers are redacted should a request ever be logged. */
export function createLogger(config: IdpConfig): Logger {
  return pino({
    name: 'embedded-idp',
    level: config.logLevel,
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
  });
}

function providerConfiguration(config: IdpConfig, jwks: { keys: JWK[] }): Configuration {
  const fetch = labFetch(config);
  return {
    // State in memory, per IdP instance (see memory-adapter.ts for why not oidc-provider's quick-start adapter).
    adapter: createMemoryAdapter(),
    clients: [{ ...CLI_CLIENT }],
    extraClientMetadata: clientScopePolicy(config),
    ...(fetch === undefined ? {} : { fetch }),
    jwks,
    findAccount,
    cookies: { keys: [...config.cookieKeys] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    // Resource scopes are listed too so that RFC 8414 `scopes_supported` names them.
    scopes: [...OIDC_SCOPES, ...config.scopes],
    responseTypes: ['code'],
    // OAuth 2.1 §4.1.1 / MCP: PKCE for every client, and oidc-provider only accepts S256.
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      revocation: { enabled: true },
      // The lab's resource server accepts Bearer tokens only, so no DPoP-bound tokens are issued.
      dPoP: { enabled: false },
      resourceIndicators: resourceIndicators(config),
      clientIdMetadataDocument: clientIdMetadataDocumentFeature(config),
    },
    routes: { registration: REGISTRATION_PATH, authorization: AUTHORIZATION_PATH },
    clientBasedCORS: clientBasedCors,
    // Error pages for requests that cannot be redirected back (e.g. unknown client or redirect_uri): the OAuth
    // error code and description only, no third-party assets.
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.set('cache-control', 'no-store');
      ctx.body = errorPage('Authorization request refused', `${out.error}: ${out.error_description ?? ''}`);
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Refresh tokens whenever the client may use the refresh_token grant, not only with offline_access (which
    // oidc-provider keeps only with prompt=consent); they rotate for public clients (default rotateRefreshToken).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: () => false,
    // The email claim travels in access tokens so a resource server can map permissions from it.
    extraTokenClaims: (_ctx, token) => {
      const user = token.kind === 'AccessToken' ? userBySub(token.accountId) : undefined;
      return user === undefined ? undefined : { email: user.email };
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtlS,
      AuthorizationCode: 60,
      IdToken: config.accessTokenTtlS,
      Interaction: 10 * 60,
      Session: 8 * 60 * 60,
      Grant: config.refreshTokenTtlS,
      RefreshToken: config.refreshTokenTtlS,
    },
  };
}

function logProviderEvents(provider: Provider, log: Logger): void {
  provider.on('server_error', (_ctx, err) => log.error({ err, event: 'server_error' }, 'authorization server error'));
  // Only the error code and description are logged: never parameters, codes or tokens.
  const clientError = (event: string) => (_ctx: unknown, err: { error?: string; error_description?: string }) =>
    log.info({ event, error: err.error, error_description: err.error_description }, 'request refused');
  // The typings overload `on` per event name; these events all pass (ctx, error).
  const on = provider.on.bind(provider) as (event: string, listener: (ctx: unknown, arg: never) => void) => unknown;
  for (const event of ['authorization.error', 'grant.error', 'registration_create.error', 'revocation.error', 'userinfo.error']) {
    on(event, clientError(event));
  }
  on('registration_create.success', (_ctx: unknown, client: { clientId: string }) =>
    log.info({ event: 'registration_create.success', clientId: client.clientId }, 'client registered'));
}

/**
 * Builds the embedded authorization server (OAuth 2.1 + RFC 8414, 7591, 8707, 9068, 9207 via oidc-provider)
 * without listening. Serve `handler` with `node:http`; `config.issuer` must be the URL it is reachable at.
 */
export async function buildIdp(config: IdpConfig, deps: IdpDeps = {}): Promise<Idp> {
  const logger = deps.logger ?? createLogger(config);
  const jwks = deps.signingKeys ?? (await loadSigningKeys(config.signingKeyFile));
  const provider = new Provider(config.issuer, providerConfiguration(config, jwks));
  provider.proxy = false;
  provider.use(registrationCors(REGISTRATION_PATH));
  provider.use(defaultScope(AUTHORIZATION_PATH, config));
  logProviderEvents(provider, logger);

  const handleInteraction = interactionHandler(provider, logger);
  const koa = provider.callback();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handleInteraction(req, res).then(
      (handled) => {
        if (!handled) void koa(req, res);
      },
      (err: unknown) => {
        logger.error({ err, event: 'handler.error' }, 'request failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  };
  return { handler, provider, issuer: config.issuer, logger };
}
