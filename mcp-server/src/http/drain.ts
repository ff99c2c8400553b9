/**
 * The drain between SIGTERM (or SIGINT) and exit, so that a rolling restart behind a proxy loses no request (README
 * "Scale-out"). The plugin serves the readiness endpoint and keeps count of the requests in flight; `drainAndClose`
 * runs the phases, in order:
 *
 * 1. draining (`begin`): `GET /healthz` answers 503, so that the proxy's health check takes the replica out.
 *    Requests are still served as usual, and every connection is closed after its current response
 *    (`Connection: close`), so that none is left open for the proxy to reuse once the replica stops;
 * 2. after MCP_DRAIN_DELAY_MS: the listener stops (a new connection is refused, which a proxy may retry elsewhere:
 *    nothing was sent) and the requests in flight finish: all of them but the held event streams;
 * 3. `app.close()`: the held streams end cleanly (legacy SSE and 2025 GET streams with `session_ended`
 *    `server_shutdown`, `subscriptions/listen` with the SDK's graceful close), then Redis and the notes store close.
 *
 * MCP_DRAIN_TIMEOUT_MS after the listener stopped, connections still open are cut, whatever they carry.
 *
 * From Fastify this uses `close()` with its defaults: `return503OnClosing` (a request arriving on a connection
 * still open once closing began is refused with 503, unprocessed) and `forceCloseConnections: 'idle'`; and Node's
 * `server.closeAllConnections()` for the deadline; the v2 SDK's `handler.close()` ends listen streams gracefully
 * (it also aborts modern exchanges in flight, hence only once they are done). What Fastify does not offer is the
 * order: it stops the listener only after its preClose hooks, and those are where the held streams must end (else
 * close waits for them); waiting for the requests in flight inside a preClose hook is bounded by Fastify's
 * pluginTimeout (10 s), so that wait happens here, before `close()`. (@godaddy/terminus, made for this, works on
 * the raw server beside Fastify, and cannot tell a held stream, which the server must end, from a request in
 * flight, which it must let finish: it would wait for every SSE stream until its timeout.)
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

/** The readiness endpoint a proxy's health check polls. */
export const READINESS_PATH = '/healthz';

/** The drain state of one app (`app.drain`). */
export interface Drain {
  /** True from `begin()` on: readiness answers 503. */
  readonly draining: boolean;
  /** Requests in flight, held event streams not counted. */
  readonly pending: number;
  /** Phase 1: readiness 503; from now on every connection is closed after its current response. */
  begin(): void;
  /**
   * Marks `res` as a held event stream: it lasts until the server ends it (at close, with a final event), so the
   * drain does not wait for it as for a request in flight.
   */
  hold(res: ServerResponse): void;
  /** Resolves once no request is in flight but the held streams. */
  settled(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    readonly drain: Drain;
  }
}

/**
 * Has the connection of `res` closed once `res` is done. The response says so (`Connection: close`), so that the
 * proxy does not put the connection back in its pool: a server closing a pooled connection afterwards races with
 * the next request sent on it. The header stays `close` whoever writes the head: the SDK's transports and the SSE
 * transport pass `Connection: keep-alive` to `writeHead`, which Node merges through `setHeader`.
 */
function closeAfterResponse(res: ServerResponse): void {
  if (res.headersSent) {
    // A held stream opened before the drain: its socket is ended once the stream is (at close, long after the
    // proxy stopped sending here).
    const socket = res.socket;
    res.once('finish', function endConnection() {
      socket?.end();
    });
    return;
  }
  res.setHeader('connection', 'close');
  const setHeader = res.setHeader.bind(res);
  res.setHeader = function keepConnectionClose(name, value) {
    return name.toLowerCase() === 'connection' ? res : setHeader(name, value);
  };
}

const drainPlugin: FastifyPluginAsync = async function drainPlugin(app) {
  const inFlight = new Set<ServerResponse>();
  const held = new WeakSet<ServerResponse>();
  let draining = false;
  let pending = 0;
  let waiters: Array<() => void> = [];
  function changed(): void {
    if (pending > 0) return;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  }

  app.addHook('onRequest', function trackRequest(_request, reply, done) {
    const res = reply.raw;
    inFlight.add(res);
    pending++;
    res.once('close', function untrack() {
      inFlight.delete(res);
      if (!held.has(res)) pending--;
      changed();
    });
    if (draining) closeAfterResponse(res);
    done();
  });

  const drain: Drain = {
    get draining() {
      return draining;
    },
    get pending() {
      return pending;
    },
    begin() {
      if (draining) return;
      draining = true;
      for (const res of inFlight) closeAfterResponse(res);
    },
    hold(res) {
      if (held.has(res) || !inFlight.has(res)) return;
      held.add(res);
      pending--;
      changed();
    },
    settled() {
      return new Promise((resolve) => {
        waiters.push(resolve);
        changed();
      });
    },
  };
  app.decorate('drain', drain);

  // For the proxy only: no credentials, no Host check (a health check names no public host), nothing about the
  // server but whether to send it requests; not logged per request (the proxy asks every second).
  app.get(READINESS_PATH, { logLevel: 'warn' }, async function readiness(_request, reply) {
    reply.header('cache-control', 'no-store');
    if (draining) return reply.code(503).send({ status: 'draining' });
    return { status: 'ready' };
  });
};

/** Registered by buildApp: `app.drain` and the readiness endpoint. */
export default fp(drainPlugin, { name: 'mcp-lab-drain', fastify: '5.x' });

export interface DrainOptions {
  /** MCP_DRAIN_DELAY_MS: how long to serve with readiness 503 before the listener stops. */
  readonly delayMs: number;
  /** MCP_DRAIN_TIMEOUT_MS: how long after the listener stopped connections may stay open. */
  readonly timeoutMs: number;
  /** Aborted (a second signal): what is left of the delay is skipped. */
  readonly skipDelay?: AbortSignal;
}

/** Runs the drain's phases (module comment) and resolves once the app is closed. */
export async function drainAndClose(app: FastifyInstance, options: DrainOptions): Promise<void> {
  const { log } = app;
  app.drain.begin();
  log.info({ drainDelayMs: options.delayMs }, 'draining: readiness answers 503, requests are still served');
  try {
    await sleep(options.delayMs, undefined, options.skipDelay ? { signal: options.skipDelay } : {});
  } catch (err) {
    log.info({ err }, 'drain delay cut short');
  }
  // Stopped here rather than by close(): nothing new may arrive while the requests in flight finish.
  if (app.server.listening) app.server.close();
  log.info({ inFlight: app.drain.pending }, 'stopped listening; waiting for the requests in flight');
  const deadline = setTimeout(function cutConnections() {
    log.warn({ inFlight: app.drain.pending }, 'drain timeout: cutting the connections still open');
    app.server.closeAllConnections();
  }, options.timeoutMs);
  try {
    await app.drain.settled();
    log.info('requests in flight done; ending the held streams');
    await app.close();
  } finally {
    clearTimeout(deadline);
  }
  log.info('closed');
}
