/**
 * The authentication plugin: decorates each request with its `principal` and offers `authenticate`, an
 * onRequest hook that routes opt into. Errors are thrown (they own their status); app.ts renders them.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { RsConfig } from '../config.ts';
import { CredentialsRequired } from '../http-error.ts';
import type { CookieSessionStore } from './cookie-sessions.ts';
import { extractCredentials } from './credentials.ts';
import { checkCookieOrigin } from './origin.ts';
import type { Principal } from './principal.ts';
import type { TokenVerifier } from './verify-token.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
    /** How the principal was established; cookie requests get the CSRF Origin rule. */
    authMethod: 'bearer' | 'cookie' | undefined;
    /** The session cookie's id when authMethod is 'cookie' (what a stream opened with it ends with). */
    cookieSessionId: string | undefined;
  }
  interface FastifyInstance {
    /** onRequest hook: requires a bearer token or a session cookie. */
    authenticate: (request: FastifyRequest) => Promise<void>;
    /** onRequest hook: requires a bearer token (cookies are not accepted). */
    authenticateBearer: (request: FastifyRequest) => Promise<void>;
  }
}

export interface AuthPluginOptions {
  readonly config: Pick<RsConfig, 'allowedOrigins'>;
  readonly verifyToken: TokenVerifier;
  readonly cookieSessions: CookieSessionStore;
}

/** The principal of an authenticated request; for handlers behind `authenticate`. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new CredentialsRequired();
  return request.principal;
}

const authPlugin: FastifyPluginAsync<AuthPluginOptions> = async function authPlugin(app, options) {
  const { config, verifyToken, cookieSessions } = options;
  app.decorateRequest('principal', undefined);
  app.decorateRequest('authMethod', undefined);
  app.decorateRequest('cookieSessionId', undefined);

  async function resolve(request: FastifyRequest, allowCookie: boolean): Promise<void> {
    const credentials = extractCredentials({
      headers: request.headers,
      rawHeaders: request.raw.rawHeaders,
      query: request.query,
      cookies: allowCookie ? request.cookies : undefined,
    });
    switch (credentials.kind) {
      case 'none':
        throw new CredentialsRequired();
      case 'bearer':
        request.principal = await verifyToken(credentials.token);
        request.authMethod = 'bearer';
        return;
      case 'cookie': {
        const principal = cookieSessions.get(credentials.sessionId);
        // An unknown or expired session cookie is no credential at all: challenge for a token.
        if (!principal) throw new CredentialsRequired('the session expired or is unknown; an access token is required');
        checkCookieOrigin(request.method, request.headers.origin, config.allowedOrigins);
        request.principal = principal;
        request.authMethod = 'cookie';
        request.cookieSessionId = credentials.sessionId;
        return;
      }
    }
  }

  app.decorate('authenticate', async function authenticate(request: FastifyRequest) {
    await resolve(request, true);
  });
  app.decorate('authenticateBearer', async function authenticateBearer(request: FastifyRequest) {
    await resolve(request, false);
  });
};

export default fp(authPlugin, { name: 'mcp-lab-auth', fastify: '5.x', dependencies: ['@fastify/cookie'] });
