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
import type { SubjectRateLimiter } from './rate-limit.ts';
import type { Principal } from './principal.ts';
import type { TokenVerifier } from './verify-token.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
    /** How the principal was established; cookie requests get the CSRF Origin rule. */
    authMethod: 'bearer' | 'cookie' | undefined;
    /** The cookie session id of a cookie-authenticated request (MCP streams opened with it end with it). */
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
  /** Applied once the subject is known (every authenticated request counts). */
  readonly rateLimiter?: SubjectRateLimiter;
}

/** The principal of an authenticated request; for handlers behind `authenticate`. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new CredentialsRequired();
  return request.principal;
}

/** The principal and, for a cookie-authenticated request, its cookie session id. */
export function requireCredential(request: FastifyRequest): { principal: Principal; cookieSessionId: string | undefined } {
  return { principal: requirePrincipal(request), cookieSessionId: request.cookieSessionId };
}

const authPlugin: FastifyPluginAsync<AuthPluginOptions> = async function authPlugin(app, options) {
  const { config, verifyToken, cookieSessions, rateLimiter } = options;
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
        const principal = await cookieSessions.get(credentials.sessionId);
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
    if (request.principal) rateLimiter?.take(request.principal);
  });
  app.decorate('authenticateBearer', async function authenticateBearer(request: FastifyRequest) {
    await resolve(request, false);
    if (request.principal) rateLimiter?.take(request.principal);
  });
};

export default fp(authPlugin, { name: 'mcp-lab-auth', fastify: '5.x', dependencies: ['@fastify/cookie'] });
