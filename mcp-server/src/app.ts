/**
 * The MCP resource server: RFC 9728 metadata, RFC 6750 bearer challenges, cookie sessions, and the MCP
 * Streamable HTTP and HTTP+SSE transports. `buildApp` wires it and never listens.
 */
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import authPlugin from './auth/authenticate.ts';
import type { CookieSessionStore } from './auth/cookie-sessions.ts';
import { createJwksResolver } from './auth/jwks.ts';
import type { KeySource } from './auth/jwks.ts';
import { createSubjectRateLimiter } from './auth/rate-limit.ts';
import { VerifiedTokenCache } from './auth/token-cache.ts';
import { createTokenVerifier } from './auth/verify-token.ts';
import type { RsConfig } from './config.ts';
import drainPlugin from './http/drain.ts';
import errorHandler from './http/error-handler.ts';
import jsonBody from './http/json-body.ts';
import { registerLegacyFixtures, registerModernFixtures } from './mcp/conformance-fixtures.ts';
import { createModernEra } from './mcp/modern.ts';
import { announcingNotesChanges } from './mcp/notes-resource.ts';
import { SessionRegistry } from './mcp/sessions.ts';
import type { SessionEndReason } from './mcp/sessions.ts';
import type { SseStreamTransport } from './mcp/sse-transport.ts';
import { openNotesStore } from './notes/store.ts';
import type { NotesStore } from './notes/store.ts';
import { prmRoutes } from './routes/prm.ts';
import './routes/route-config.ts';
import { sessionRoutes } from './routes/session.ts';
import { sseRoutes } from './routes/sse.ts';
import { streamableRoutes } from './routes/streamable.ts';
import { openSharedState } from './state/open.ts';
import type { SharedState } from './state/types.ts';

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
  /** How often expired MCP and cookie sessions are swept, in ms (default 1000). */
  readonly sweepIntervalMs?: number;
  /**
   * What replicas share (cookie sessions, session directory, bus); default: Redis at config.redisUrl, else the
   * in-memory implementations. One given here is not closed with the app.
   */
  readonly state?: SharedState;
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
  allowedHeaders: ['authorization', 'content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'last-event-id'],
  exposedHeaders: ['mcp-session-id', 'www-authenticate'],
};

/** Fastify with the RS's logger (credentials redacted) and the timeouts and body limit of README "Limits". */
function createFastify(config: RsConfig, deps: AppDeps): FastifyInstance {
  const { limits } = config;
  return Fastify({
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
    bodyLimit: limits.bodyLimitBytes,
    // Slow bodies and idle sockets (README "Limits"): Node answers 408 and closes when the whole request has not
    // arrived in time; it checks at this interval, so a deadline is met within a second.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2))),
    },
  }) as unknown as FastifyInstance;
}

/** The two 2025-era session registries (Streamable HTTP sessions, HTTP+SSE streams), each capped per subject. */
function createSessionRegistries(config: RsConfig, now: () => number, sweepIntervalMs: number) {
  const { limits } = config;
  const sessionLimits = { idleTimeoutMs: limits.sessionIdleTimeoutMs, maxLifetimeMs: limits.sessionMaxLifetimeMs };
  return {
    streamable: new SessionRegistry<StreamableHTTPServerTransport>(
      { ...sessionLimits, maxPerSubject: limits.sessionsMaxPerSubject, extendsWithToken: true, label: 'Streamable HTTP sessions' },
      now,
      sweepIntervalMs,
    ),
    sse: new SessionRegistry<SseStreamTransport>(
      { ...sessionLimits, maxPerSubject: limits.sseStreamsMaxPerSubject, extendsWithToken: false, label: 'SSE streams' },
      now,
      sweepIntervalMs,
    ),
  };
}

/**
 * 2026-07-28 requests: stateless, served per request (mcp/modern.ts); nothing here outlives a request but the
 * subscriptions/listen streams, closed with the app.
 */
function createModern(config: RsConfig, notes: NotesStore, state: SharedState, now: () => number, log: FastifyBaseLogger) {
  return createModernEra({
    notes,
    events: state.serverEvents,
    now,
    log,
    listenKeepAliveMs: config.listenKeepAliveMs,
    maxListenStreams: config.listenMaxStreams,
    maxListenStreamsPerSubject: config.limits.listenStreamsMaxPerSubject,
    toolsListTtlMs: config.toolsListTtlMs,
    discoverTtlMs: config.discoverTtlMs,
    ...(config.conformanceFixtures ? { extraTools: registerModernFixtures } : {}),
  });
}

/** CORS: metadata readable from any origin; MCP and session endpoints only from the allowed origins, with credentials. */
async function registerCors(app: FastifyInstance, config: RsConfig): Promise<void> {
  // Built once: the delegator runs on every request.
  const metadataCors = { origin: '*', methods: ['GET'] };
  const mcpCors = { ...MCP_CORS, origin: [...config.allowedOrigins] };
  await app.register(cors, {
    delegator: function corsFor(req, callback) {
      callback(null, req.url?.startsWith('/.well-known/') ? metadataCors : mcpCors);
    },
  });
}

/** Builds the resource server (not listening). Close it to end MCP sessions and the notes store. */
export async function buildApp(config: RsConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const { limits } = config;
  const sweepIntervalMs = deps.sweepIntervalMs ?? 1_000;
  const app = createFastify(config, deps);

  const keys = deps.keySource ?? createJwksResolver({ config, now, log: app.log, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  const tokenCache = new VerifiedTokenCache(config.tokenCacheMaxEntries, config.clockSkewS);
  const verifyToken = createTokenVerifier({ config, keys, now, cache: tokenCache });
  const state = deps.state ?? (await openSharedState(config, now, app.log));
  const cookieSessions: CookieSessionStore = state.cookieSessions;
  // Every successful note change is announced to listen streams on every replica (README "Scale-out").
  const notes = announcingNotesChanges(deps.notes ?? openNotesStore(config.dbPath, { now, limits }), state.serverEvents);
  const sessions = createSessionRegistries(config, now, sweepIntervalMs);
  // A logged-out, replaced or expired cookie session takes the MCP sessions and streams opened with it along.
  cookieSessions.onEnd(function endCookieStreams(id, why) {
    const reason: Extract<SessionEndReason, 'logged_out' | 'cookie_session_expired'> = why === 'expired' ? 'cookie_session_expired' : 'logged_out';
    sessions.streamable.endByCookie(id, reason);
    sessions.sse.endByCookie(id, reason);
  });
  const modern = createModern(config, notes, state, now, app.log);
  const cookieSweeper = setInterval(function sweepCookies() {
    Promise.resolve(cookieSessions.sweep()).catch((err: unknown) => app.log.warn({ err }, 'cookie-session sweep failed'));
  }, sweepIntervalMs);
  cookieSweeper.unref();
  // What a client without credentials is told to ask for: basic access. In claim mode permissions do not come
  // from scopes, so the scopes the AS needs to mint the claim are named instead.
  const challengeScope = config.permissionsFrom.kind === 'scope' ? ['notes:read'] : [...config.scopesSupported];

  await app.register(errorHandler, { config, challengeScope });
  // First of the request hooks: every request is counted in flight (the drain waits for them) and has its readiness.
  await app.register(drainPlugin);
  await app.register(jsonBody, { maxDepth: limits.jsonMaxDepth });
  await app.register(cookie);
  await registerCors(app, config);
  const rateLimiter = createSubjectRateLimiter(limits.rateLimitPerS, limits.rateLimitBurst, now);
  await app.register(authPlugin, { config, verifyToken, cookieSessions, rateLimiter });
  // Route plugins are encapsulated (not fastify-plugin): their hooks and routes stay in their own context.
  await app.register(prmRoutes, { config });
  await app.register(sessionRoutes, { config, cookieSessions });
  await app.register(streamableRoutes, {
    config,
    notes,
    sessions: sessions.streamable,
    modern,
    state,
    ...(config.conformanceFixtures ? { extraLegacyTools: registerLegacyFixtures } : {}),
  });
  await app.register(sseRoutes, { config, notes, sessions: sessions.sse, state });

  // The held streams end here, with a final event (after the drain, http/drain.ts, the requests in flight are done):
  // they would otherwise keep close() waiting.
  app.addHook('preClose', async function closeSessions() {
    clearInterval(cookieSweeper);
    await modern.close();
    await sessions.streamable.closeAll();
    await sessions.sse.closeAll();
  });
  app.addHook('onClose', async function closeNotes() {
    if (!deps.notes) notes.close();
    if (!deps.state) await state.close();
  });
  return app;
}
