/**
 * The MCP resource server: RFC 9728 metadata, RFC 6750 bearer challenges, cookie sessions, and the MCP
 * Streamable HTTP and HTTP+SSE transports. `buildApp` wires it and never listens.
 */
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import { BearerError, bearerChallenge, bearerErrorBody, insertWellKnown } from '@mcp-lab/protocol';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import authPlugin from './auth/authenticate.ts';
import { createCookieSessionStore } from './auth/cookie-sessions.ts';
import type { CookieSessionStore } from './auth/cookie-sessions.ts';
import { createJwksResolver } from './auth/jwks.ts';
import type { KeySource } from './auth/jwks.ts';
import { VerifiedTokenCache } from './auth/token-cache.ts';
import { createTokenVerifier } from './auth/verify-token.ts';
import type { RsConfig } from './config.ts';
import { CredentialsRequired, HttpError } from './http-error.ts';
import { SessionRegistry } from './mcp/sessions.ts';
import type { SseStreamTransport } from './mcp/sse-transport.ts';
import { openNotesStore } from './notes/store.ts';
import type { NotesStore } from './notes/store.ts';
import prmRoutes from './routes/prm.ts';
import './routes/route-config.ts';
import sessionRoutes from './routes/session.ts';
import sseRoutes from './routes/sse.ts';
import streamableRoutes from './routes/streamable.ts';

/** Seams for tests and embedding; every field is optional. */
export interface AppDeps {
  /** Token signing keys; default: jose remote JWKS from config.jwksUrl or the issuer's metadata. */
  readonly keySource?: KeySource;
  /** fetch used for metadata discovery and the JWKS (default: global fetch). */
  readonly fetch?: typeof fetch;
  /** Clock in milliseconds since the epoch (default Date.now). */
  readonly now?: () => number;
  /** Notes store; default: opened at config.dbPath and closed with the app. */
  readonly notes?: NotesStore;
  /** A pino-compatible logger instance, instead of one built from config.logLevel. */
  readonly logger?: FastifyBaseLogger;
  /** Where the config-built logger writes (default stdout); lets tests read the log. */
  readonly logStream?: { write(line: string): unknown };
  /** Largest accepted request body in bytes (default 1 MiB). */
  readonly bodyLimitBytes?: number;
}

/** Headers that carry credentials; pino never prints them. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];

/**
 * The request as logged: the path without its query, which may hold session ids or a misplaced
 * `access_token` (refused, but it must not reach the log either).
 */
function serializeRequest(req: { method: string; url: string; host?: string; ip?: string }) {
  return { method: req.method, path: req.url.split('?', 1)[0], host: req.host, remoteAddress: req.ip };
}

/** Methods and headers a browser client on an allowed origin may use (CORS, Fetch standard). */
const MCP_CORS = {
  credentials: true,
  methods: ['GET', 'POST', 'DELETE'],
  allowedHeaders: ['authorization', 'content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'],
  exposedHeaders: ['mcp-session-id', 'www-authenticate'],
};

/** Builds the resource server (not listening). Close it to end MCP sessions and the notes store. */
export async function buildApp(config: RsConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const app = Fastify({
    ...(deps.logger
      ? { loggerInstance: deps.logger }
      : {
          logger: {
            level: config.logLevel,
            redact: REDACT,
            serializers: { req: serializeRequest },
            ...(deps.logStream ? { stream: deps.logStream } : {}),
          },
        }),
    bodyLimit: deps.bodyLimitBytes ?? 1024 * 1024,
  }) as unknown as FastifyInstance;

  const keys = deps.keySource ?? createJwksResolver({ config, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  const tokenCache = new VerifiedTokenCache(config.tokenCacheMaxEntries, config.clockSkewS);
  const verifyToken = createTokenVerifier({ config, keys, now, cache: tokenCache });
  const cookieSessions: CookieSessionStore = createCookieSessionStore(now);
  const notes = deps.notes ?? openNotesStore(config.dbPath, now);
  const streamableSessions = new SessionRegistry<StreamableHTTPServerTransport>();
  const sseSessions = new SessionRegistry<SseStreamTransport>();
  // What a client without credentials is told to ask for: basic access. In claim mode permissions do not come
  // from scopes, so the scopes the AS needs to mint the claim are named instead.
  const challengeScope = config.permissionsFrom.kind === 'scope' ? ['notes:read'] : [...config.scopesSupported];

  app.setErrorHandler(function renderError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
    const resourceMetadata = insertWellKnown(
      `${config.publicUrl}${request.routeOptions.config?.resourcePath ?? ''}`,
      'oauth-protected-resource',
    );
    if (error instanceof CredentialsRequired) {
      const challenge = bearerChallenge({ resourceMetadata, scope: challengeScope });
      if (challenge) reply.header('www-authenticate', challenge);
      return reply.code(error.status).send({ error: 'unauthorized', error_description: error.message });
    }
    if (error instanceof BearerError) {
      const challenge = bearerChallenge({ resourceMetadata, error });
      if (challenge) reply.header('www-authenticate', challenge);
      if (error.code === 'temporarily_unavailable') {
        request.log.warn({ err: error.cause ?? error }, 'token verification unavailable');
        reply.header('retry-after', '5');
      }
      return reply.code(error.status).send(bearerErrorBody(error));
    }
    if (error instanceof HttpError) {
      return reply.code(error.status).send({ error: error.code, error_description: error.message });
    }
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'invalid_request', error_description: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ error: 'server_error', error_description: 'internal error' });
  });

  await app.register(cookie);
  // Built once: the delegator runs on every request.
  const metadataCors = { origin: '*', methods: ['GET'] };
  const mcpCors = { ...MCP_CORS, origin: [...config.allowedOrigins] };
  await app.register(cors, {
    delegator: function corsFor(req, callback) {
      callback(null, req.url?.startsWith('/.well-known/') ? metadataCors : mcpCors);
    },
  });
  await app.register(authPlugin, { config, verifyToken, cookieSessions });
  await app.register(prmRoutes, { config });
  await app.register(sessionRoutes, { config, cookieSessions });
  await app.register(streamableRoutes, { config, notes, sessions: streamableSessions });
  await app.register(sseRoutes, { config, notes, sessions: sseSessions, cookieSessions });

  // Before the server stops accepting: long-lived SSE streams would otherwise keep close() waiting.
  app.addHook('preClose', async function closeSessions() {
    await streamableSessions.closeAll();
    await sseSessions.closeAll();
  });
  app.addHook('onClose', async function closeNotes() {
    if (!deps.notes) notes.close();
  });
  return app;
}
