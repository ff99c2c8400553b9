/**
 * The scale-out suites' stack: a real Redis (MCP_LAB_REDIS_URL, from scripts/ensure-redis.sh), a JWKS on loopback,
 * and N resource-server processes (`node mcp-server/src/main.ts`) sharing that Redis and one public URL, as
 * replicas behind a proxy would. Tokens are RFC 9068 JWTs signed with the test key.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { makeKeys, nowS, signJwt, type Keys } from '@mcp-lab/test-kit/keys';
import { startProcess, type RunningProcess } from '@mcp-lab/test-kit/processes';
import { startRsProcess } from '@mcp-lab/test-kit/rs-process';
import { json, serve, type Served } from '@mcp-lab/test-kit/serve';
import { openSse, type SseEvent, type SseStream } from '@mcp-lab/test-kit/sse';

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

export interface ScaleStack {
  readonly replicas: Replica[];
  readonly keys: Keys;
  readonly issuer: string;
  token(sub: string, scope?: string): Promise<string>;
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

/** Starts the JWKS and `count` replicas on Redis `redisUrl` (database `db`, so that suites do not share keys). */
export async function startScaleStack(redisUrl: string, count: number, db: number, env: Record<string, string> = {}): Promise<ScaleStack> {
  const keys = await makeKeys('scale-key');
  const jwks: Served = await serve(() => json({ keys: [keys.publicJwk] }));
  const issuer = jwks.origin;
  const replicas: Replica[] = [];
  const url = new URL(redisUrl);
  url.pathname = `/${db}`;
  const start = (i: number, port: number) =>
    startRsProcess({
      issuer,
      port,
      publicUrl: PUBLIC_URL,
      env: { MCP_JWKS_URL: `${issuer}/jwks`, MCP_REDIS_URL: url.href, ...env },
      name: `rs-${i}`,
    });
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      replicas.push({ url: `http://127.0.0.1:${port}`, process: await start(i, port) });
    }
  } catch (err) {
    await Promise.allSettled(replicas.map((r) => r.process.stop()));
    await jwks.close();
    throw err;
  }
  const stopReplica = (i: number) => stopGracefully(`rs-${i}`, replicas[i]!.process);
  async function startReplica(i: number): Promise<void> {
    const replica = replicas[i]!;
    replica.process = await start(i, Number(new URL(replica.url).port));
  }
  return {
    replicas,
    keys,
    issuer,
    token: (sub, scope = 'notes:read notes:write') =>
      signJwt(keys, { iss: issuer, sub, aud: PUBLIC_URL, scope, client_id: 'scale-test', iat: nowS(), exp: nowS() + 600 }),
    stop: stopReplica,
    start: startReplica,
    async restart(i) {
      await stopReplica(i);
      await startReplica(i);
    },
    async close() {
      await Promise.allSettled(replicas.map((r) => r.process.stop()));
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

/** One server of the proxy's backend as its stats page shows it. */
export interface ProxyServer {
  /** rs1, rs2, rs3: the config's server names (rs<i+1> is stack.replicas[i]). */
  readonly name: string;
  /** `UP`, `DOWN`, or a transition (`UP 1/2`: failing, not out yet). */
  readonly status: string;
  /** Responses with a 5xx status this server gave. */
  readonly responses5xx: number;
  /** Requests the proxy re-sent after a failure on this server (`retry-on`), and those it sent elsewhere. */
  readonly retries: number;
  readonly redispatches: number;
}

/** The lab's proxy on the host, with its health view. */
export interface Proxy {
  readonly url: string;
  readonly process: RunningProcess;
  /** The backend's servers, from the stats page (MCP_LAB_PROXY_STATS, `/stats;csv`). */
  servers(): Promise<ProxyServer[]>;
  /** Resolves once the proxy shows server `name` in a status `accept` accepts (polled every 50 ms). */
  waitFor(name: string, accept: (status: string) => boolean, timeoutMs?: number): Promise<void>;
}

/** The backend's server rows of HAProxy's CSV stats. */
export function parseProxyStats(csv: string): ProxyServer[] {
  const [head = '', ...rows] = csv.trim().split('\n');
  const columns = head.replace(/^# /, '').split(',');
  const col = (cells: string[], name: string) => cells[columns.indexOf(name)] ?? '';
  return rows
    .map((row) => row.split(','))
    .filter((cells) => col(cells, 'pxname') === 'replicas' && !['FRONTEND', 'BACKEND'].includes(col(cells, 'svname')))
    .map((cells) => ({
      name: col(cells, 'svname'),
      status: col(cells, 'status'),
      responses5xx: Number(col(cells, 'hrsp_5xx') || 0),
      retries: Number(col(cells, 'wretr') || 0),
      redispatches: Number(col(cells, 'wredis') || 0),
    }));
}

/**
 * Runs the lab's proxy config (docker/scale/haproxy.cfg) on the host in front of `targets` (1 to 3 replicas; with
 * fewer than three the last is repeated, so the config's three server lines name them all), with its stats page on
 * another loopback port.
 */
export async function startProxy(targets: readonly string[]): Promise<Proxy> {
  const [port, statsPort] = [await freePort(), await freePort()];
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
  async function waitFor(name: string, accept: (status: string) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = (await servers()).find((s) => s.name === name)?.status ?? 'absent';
      if (accept(last)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the proxy still shows ${name} as ${last} after ${timeoutMs} ms`);
  }
  return { url, process: proc, servers, waitFor };
}

/** The next event of `stream`, or a rejection after `ms`. */
export function nextEvent(stream: SseStream, ms = 5_000): Promise<SseEvent> {
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

/** A 2026-07-28 stateless tools/call (whoami): the per-request `_meta` envelope and the mirrored headers. */
const MODERN_WHOAMI = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'whoami',
    arguments: {},
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'scale-test', version: '0' },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
});
const MODERN_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'whoami',
};

/** The `sub` of a whoami tools/call answered as JSON, or undefined for any other answer. */
function whoamiOf(body: string): string | undefined {
  try {
    const message = JSON.parse(body) as { result?: { isError?: boolean; content?: Array<{ text?: string }> } };
    if (message.result?.isError) return undefined;
    return (JSON.parse(message.result?.content?.[0]?.text ?? 'null') as { sub?: string } | null)?.sub;
  } catch {
    return undefined; // not JSON: not the answer
  }
}

export interface LoadOptions {
  /** The subject every answer must name. */
  readonly sub: string;
  /** Loops sending one request after the other. */
  readonly workers: number;
  /** How often a failed request is sent again, 200 ms apart, as a client retries one whose connection broke; 0: never. */
  readonly retries: number;
  /** Pause between two requests of one loop (default none), to stay under the per-user rate limit. */
  readonly pauseMs?: number;
}

export interface LoadResult {
  readonly sent: number;
  /** Retries made (each counts once). */
  readonly retried: number;
  /** What still failed after its retries, one line each. */
  readonly failures: readonly string[];
}

/**
 * Modern-era (2026-07-28, stateless) whoami calls by `token`'s user to `url` (a proxy: round-robin over the
 * replicas) until `until` settles. A request succeeds when it is answered 200 with a whoami result naming `sub`.
 */
export async function sessionLessLoad(url: string, token: string, until: Promise<void>, options: LoadOptions): Promise<LoadResult> {
  let done = false;
  const stop = () => {
    done = true;
  };
  until.then(stop, stop);
  let sent = 0;
  let retried = 0;
  const failures: string[] = [];
  const once = async (): Promise<string | undefined> => {
    try {
      const res = await fetch(`${url}/mcp`, { method: 'POST', headers: { ...MODERN_HEADERS, authorization: `Bearer ${token}` }, body: MODERN_WHOAMI });
      const body = await res.text();
      return res.status === 200 && whoamiOf(body) === options.sub ? undefined : `HTTP ${res.status} ${body.slice(0, 160)}`;
    } catch (err) {
      return (err as Error).message;
    }
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await Promise.all(
    Array.from({ length: options.workers }, async () => {
      while (!done) {
        sent++;
        const first = await once();
        let last: string | undefined = first;
        for (let attempt = 0; attempt < options.retries && last !== undefined; attempt++) {
          retried++;
          await pause(200);
          last = await once();
        }
        if (last !== undefined) failures.push(options.retries > 0 ? `${first} / after retries: ${last}` : last);
        if (options.pauseMs) await pause(options.pauseMs);
      }
    }),
  );
  return { sent, retried, failures };
}
