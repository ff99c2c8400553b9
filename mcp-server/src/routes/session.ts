/**
 * Browser sessions: POST /session trades a valid bearer token for an HttpOnly, SameSite=Strict cookie holding
 * an opaque id (the token stays with the client); DELETE /session forgets it.
 */
import type { FastifyPluginAsync } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.ts';
import type { CookieSessionStore } from '../auth/cookie-sessions.ts';
import { SESSION_COOKIE } from '../auth/credentials.ts';
import { checkCookieOrigin, rejectForeignOrigin } from '../auth/origin.ts';
import type { RsConfig } from '../config.ts';

export interface SessionRouteOptions {
  readonly config: Pick<RsConfig, 'publicUrl' | 'allowedOrigins' | 'allowedHosts'>;
  readonly cookieSessions: CookieSessionStore;
}

export const sessionRoutes: FastifyPluginAsync<SessionRouteOptions> = async function sessionRoutes(app, { config, cookieSessions }) {
  const secure = config.publicUrl.startsWith('https:');

  const originGuard = rejectForeignOrigin(config);

  app.post(
    '/session',
    { onRequest: [originGuard, app.authenticateBearer], config: { resourcePath: '' } },
    async function createSession(request, reply) {
      const principal = requirePrincipal(request);
      const { id, expiresAtMs } = await cookieSessions.create(principal);
      reply.setCookie(SESSION_COOKIE, id, {
        httpOnly: true,
        sameSite: 'strict',
        secure,
        path: '/',
        expires: new Date(expiresAtMs),
      });
      return reply.code(204).send();
    },
  );

  app.delete(
    '/session',
    { onRequest: [originGuard], config: { resourcePath: '' } },
    async function deleteSession(request, reply) {
      const id = request.cookies[SESSION_COOKIE];
      if (id) {
        checkCookieOrigin(request.method, request.headers.origin, config.allowedOrigins);
        await cookieSessions.delete(id);
      }
      reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure, path: '/' });
      return reply.code(204).send();
    },
  );
};

