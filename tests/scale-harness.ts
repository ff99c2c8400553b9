/**
 * The scale-out suites' stack: a real Redis (MCP_LAB_REDIS_URL, from scripts/ensure-redis.sh), a JWKS on loopback,
 * and N resource-server processes (`node mcp-server/src/main.ts`) sharing that Redis and one public URL, as
 * replicas behind a proxy would. Tokens are RFC 9068 JWTs signed with the test key.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, freePorts } from '@mcp-lab/test-kit/free-port';
import { requirePrereq } from '@mcp-lab/test-kit/prereq';
import { makeKeys, nowS, signJwt, type Keys } from '@mcp-lab/test-kit/keys';
import { startProcess, type RunningProcess } from '@mcp-lab/test-kit/processes';
import { startRsProcess } from '@mcp-lab/test-kit/rs-process';
import { json, serve, type Served } from '@mcp-lab/test-kit/serve';
import { parseProxyStats, waitForServer, type Proxy } from './scale-proxy-stats.ts';
import { modernRequest } from '@mcp-lab/test-kit/mcp-messages';
import { openEventStream, openSse, rpcMessages, type EventStreamResponse, type SseEvent, type SseStream } from '@mcp-lab/test-kit/sse';

/** What every replica calls itself (RFC 9728 `resource`, the tokens' `aud`); nothing listens there. */
export const PUBLIC_URL = 'http://mcp.scale.test';

/** Whether MCP_LAB_REDIS_URL answers PING, and why not. */
export async function redisReachable(url: string | undefined): Promise<{ ok: boolean; reason: string }> {
  if (!url) return { ok: false, reason: 'MCP_LAB_REDIS_URL is not set (export MCP_LAB_REDIS_URL="$(bash scripts/ensure-redis.sh)")' };
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return { ok: (await redis.ping()) === 'PONG', reason: `no PONG from ${url}` };
  } catch (err) {
    return { ok: false, reason: `${url}: ${(err as Error).message}` };
  } finally {
    redis.disconnect();
  }
}

export interface Replica {
  readonly url: string;
  process: RunningProcess;
}

export interface ScaleStack extends ReplicaSet {
  readonly keys: Keys;
  readonly issuer: string;
  token(sub: string, scope?: string): Promise<string>;
}

/** Replicas of the RS sharing one Redis database, without the tokens' issuer (which the caller runs). */
export interface ReplicaSet {
  readonly replicas: Replica[];
  /**
   * Stops replica `i` with SIGTERM and waits for it to exit; rejects unless it exited by itself with code 0 (its
   * drain finished, no SIGKILL was needed).
   */
  stop(i: number): Promise<void>;
  /** Starts replica `i` again on its port; resolves once it answers. */
  start(i: number): Promise<void>;
  /** stop(i), then start(i). */
  restart(i: number): Promise<void>;
  close(): Promise<void>;
}

/** SIGTERM, then the exit: rejects unless the process ended by itself with code 0 (drained in time). */
async function stopGracefully(name: string, proc: RunningProcess): Promise<void> {
  await proc.stop();
  const { exitCode, signalCode } = proc.child;
  if (exitCode !== 0) {
    throw new Error(`${name} did not exit 0 after SIGTERM (code ${exitCode}, signal ${signalCode})\n${proc.output().slice(-4_000)}`);
  }
}

export interface ReplicaOptions {
  /** MCP_ISSUER: the authorization server the replicas trust. */
  readonly issuer: string;
  /** MCP_PUBLIC_URL of every replica (what a proxy in front of them is called). */
  readonly publicUrl: string;
  /** Added to (and overriding) each replica's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `count` replicas on Redis `redisUrl`, database `db` (so that suites do not share keys). */
export async function startReplicas(redisUrl: string, count: number, db: number, opts: ReplicaOptions): Promise<ReplicaSet> {
  const replicas: Replica[] = [];
  const url = new URL(redisUrl);
  url.pathname = `/${db}`;
  const start = (i: number, port: number) =>
    startRsProcess({ issuer: opts.issuer, port, publicUrl: opts.publicUrl, env: { MCP_REDIS_URL: url.href, ...opts.env }, name: `rs-${i}` });
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      replicas.push({ url: `http://127.0.0.1:${port}`, process: await start(i, port) });
    }
  } catch (err) {
    await Promise.allSettled(replicas.map((r) => r.process.stop()));
    throw err;
  }
  const stop = (i: number) => stopGracefully(`rs-${i}`, replicas[i]!.process);
  async function restartAt(i: number): Promise<void> {
    const replica = replicas[i]!;
    replica.process = await start(i, Number(new URL(replica.url).port));
  }
  return {
    replicas,
    stop,
    start: restartAt,
    async restart(i) {
      await stop(i);
      await restartAt(i);
    },
    async close() {
      await Promise.allSettled(replicas.map((r) => r.process.stop()));
    },
  };
}

/** Starts the JWKS and `count` replicas on Redis `redisUrl` (database `db`, so that suites do not share keys). */
export async function startScaleStack(redisUrl: string, count: number, db: number, env: Record<string, string> = {}): Promise<ScaleStack> {
  const keys = await makeKeys('scale-key');
  const jwks: Served = await serve(() => json({ keys: [keys.publicJwk] }));
  const issuer = jwks.origin;
  let set: ReplicaSet;
  try {
    set = await startReplicas(redisUrl, count, db, { issuer, publicUrl: PUBLIC_URL, env: { MCP_JWKS_URL: `${issuer}/jwks`, ...env } });
  } catch (err) {
    await jwks.close();
    throw err;
  }
  return {
    replicas: set.replicas,
    keys,
    issuer,
    token: (sub, scope = 'notes:read notes:write') =>
      signJwt(keys, { iss: issuer, sub, aud: PUBLIC_URL, scope, client_id: 'scale-test', iat: nowS(), exp: nowS() + 600 }),
    stop: (i) => set.stop(i),
    start: (i) => set.start(i),
    restart: (i) => set.restart(i),
    async close() {
      await set.close();
      await jwks.close();
    },
  };
}

export const HAPROXY_CFG = fileURLToPath(new URL('../docker/scale/haproxy.cfg', import.meta.url));

/** Whether Debian's haproxy is on PATH (scripts/ensure-haproxy.sh installs it). */
export function haproxyPath(): string | undefined {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  return r.status === 0 ? 'haproxy' : undefined;
}

/**
 * The scale suites' prerequisites, each reported by requirePrereq (a one-line skip locally, a failure in CI): a Redis
 * answering at MCP_LAB_REDIS_URL and, with `proxy`, Debian's haproxy on PATH.
 */
export async function scalePrereqs(options: { readonly proxy?: boolean } = {}): Promise<boolean> {
  const reachable = await redisReachable(process.env.MCP_LAB_REDIS_URL);
  const redis = requirePrereq('Redis', reachable.ok, reachable.reason);
  if (!options.proxy) return redis;
  return redis && requirePrereq('HAProxy', haproxyPath() !== undefined, "haproxy is not on PATH (bash scripts/ensure-haproxy.sh installs Debian's)");
}

/**
 * Runs the lab's proxy config (docker/scale/haproxy.cfg) on the host in front of `targets` (1 to 3 replicas; with
 * fewer than three the last is repeated, so the config's three server lines name them all), on `port` (default: a
 * free one; given when the replicas must be started knowing the proxy's URL, their public URL), with its stats page
 * on another loopback port.
 */
export async function startProxy(targets: readonly string[], port?: number): Promise<Proxy> {
  port ??= await freePort();
  const [statsPort] = (await freePorts(1, [port])) as [number];
  const hostPorts = targets.map((t) => new URL(t).host);
  const at = (i: number) => hostPorts[Math.min(i, hostPorts.length - 1)]!;
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProcess({
    command: 'haproxy',
    // -db: foreground, no daemon; -W off. The config reads its addresses from the environment.
    args: ['-db', '-f', HAPROXY_CFG],
    env: {
      PATH: process.env.PATH,
      MCP_LAB_PROXY_BIND: `127.0.0.1:${port}`,
      MCP_LAB_PROXY_STATS: `127.0.0.1:${statsPort}`,
      MCP_LAB_RS1: at(0),
      MCP_LAB_RS2: at(1),
      MCP_LAB_RS3: at(2),
    },
    readyUrl: `${url}/.well-known/oauth-protected-resource`,
    name: 'haproxy',
  });
  const servers = async () => parseProxyStats(await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text());
  return { url, process: proc, servers, waitFor: (name, accept, timeoutMs) => waitForServer(servers, name, accept, timeoutMs) };
}

/** The next event of `stream`, or a rejection after `ms`. */
export function nextEvent(stream: Pick<SseStream, 'next'>, ms = 5_000): Promise<SseEvent> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no SSE event within ${ms} ms`)), ms);
  });
  return Promise.race([stream.next(), timeout]).finally(() => clearTimeout(timer));
}

/** The `message` event answering JSON-RPC `id` (skipping others). */
export async function responseTo(stream: SseStream, id: number): Promise<Record<string, any>> {
  for (;;) {
    const event = await nextEvent(stream);
    if (event.event !== 'message') throw new Error(`expected a message event, got ${event.event}: ${event.data}`);
    const message = JSON.parse(event.data) as Record<string, any>;
    if (message.id === id) return message;
  }
}

/** POSTs one JSON-RPC message to a replica's `/messages?sessionId=…` (the path of `endpoint`). */
export function postMessage(replicaUrl: string, endpoint: URL, body: unknown, headers: Record<string, string>): Promise<Response> {
  return fetch(new URL(`${endpoint.pathname}${endpoint.search}`, replicaUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'scale-test', version: '0' } },
} as const;
export const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' } as const;
export function whoami(id: number) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'whoami', arguments: {} } } as const;
}

/** A 2026-07-28 request (`modernRequest`) POSTed to `baseUrl`/mcp with `token`; the JSON-RPC messages of its answer. */
export async function modernPost(baseUrl: string, token: string, req: ReturnType<typeof modernRequest>): Promise<{ status: number; messages: Array<Record<string, any>> }> {
  const res = await fetch(`${baseUrl}/mcp`, { method: 'POST', headers: { ...req.headers, authorization: `Bearer ${token}` }, body: JSON.stringify(req.payload) });
  return { status: res.status, messages: rpcMessages(await res.text()) };
}

/** The URI of the caller's notes resource, as `resources/list` on `baseUrl` names it. */
export async function notesUriOf(baseUrl: string, token: string): Promise<string> {
  const { messages } = await modernPost(baseUrl, token, modernRequest('resources/list'));
  const resources = messages[0]?.result?.resources as Array<{ uri: string; name: string }> | undefined;
  const notes = resources?.find((r) => r.name === 'notes');
  if (!notes) throw new Error(`resources/list on ${baseUrl} named no notes resource: ${JSON.stringify(messages)}`);
  return notes.uri;
}

/** Opens a 2026-07-28 `subscriptions/listen` stream on `baseUrl` for `uris`; the stream and its acknowledgment. */
export async function listenOn(baseUrl: string, token: string, uris: readonly string[], id: string | number): Promise<{ stream: EventStreamResponse; ack: Record<string, any> }> {
  const req = modernRequest('subscriptions/listen', { notifications: { resourceSubscriptions: uris } }, id);
  const stream = await openEventStream(`${baseUrl}/mcp`, { method: 'POST', headers: { ...req.headers, authorization: `Bearer ${token}` }, body: JSON.stringify(req.payload) });
  if (stream.status !== 200) throw new Error(`subscriptions/listen on ${baseUrl} answered HTTP ${stream.status}`);
  return { stream, ack: JSON.parse((await nextEvent(stream)).data) as Record<string, any> };
}

/**
 * Opens a legacy stream on `replicaUrl` and initializes its session through `via` (other replicas, or the proxy).
 * @throws when a step is not answered as the transport says (202, then the answer on the stream).
 */
export async function openInitialized(replicaUrl: string, headers: Record<string, string>, via: string): Promise<SseStream> {
  const stream = await openSse(`${replicaUrl}/sse`, headers);
  const init = await postMessage(via, stream.endpoint, INITIALIZE, headers);
  if (init.status !== 202) throw new Error(`initialize through ${via}: HTTP ${init.status}`);
  if ((await responseTo(stream, 1)).result?.serverInfo === undefined) throw new Error('initialize was not answered on the stream');
  const initialized = await postMessage(via, stream.endpoint, INITIALIZED, headers);
  if (initialized.status !== 202) throw new Error(`notifications/initialized through ${via}: HTTP ${initialized.status}`);
  return stream;
}

/** The `sub` a whoami result names. */
export function whoamiSub(message: Record<string, any>): string {
  return JSON.parse(message.result.content[0].text).sub;
}
