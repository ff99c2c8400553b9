/**
 * Through the lab's real proxy: Debian's HAProxy running docker/scale/haproxy.cfg (the file the compose profile
 * uses) on loopback, in front of three resource-server replicas sharing a real Redis. The official SDK client
 * completes both 2025-era flows through it: Streamable HTTP stays on its replica by the affinity the proxy learns
 * from the `Mcp-Session-Id` response header; legacy HTTP+SSE POSTs go round-robin and are relayed over Redis to
 * the replica holding the stream. Which replica answered is read from the replicas' own request logs. (The official
 * v2 SDK client, 2026-07-28 with OAuth and a listen stream across replicas, through the same proxy:
 * tests/scale-proxy-v2.test.ts.)
 *
 * Under modern-era load: a rolling restart (SIGTERM to each replica in turn, each draining: README "Scale-out") loses
 * no request without any client retry, and the proxy's own counters show no 5xx and nothing re-sent; a replica
 * killed outright (no drain) loses no request that the client retries, and ends only the streams it held. Which
 * replicas are in is read from the proxy's stats page (MCP_LAB_PROXY_STATS).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectSseWithBearer, connectStreamable, MCP_HEADERS, toolJson } from '@mcp-lab/test-kit/rs-session';
import type { RunningProcess } from '@mcp-lab/test-kit/processes';
import { openSse } from '@mcp-lab/test-kit/sse';
import { Redis } from 'ioredis';
import { accepts } from '@mcp-lab/test-kit/raw-http';
import {
  INITIALIZE,
  nextEvent,
  openInitialized,
  postMessage,
  scalePrereqs,
  responseTo,
  startProxy,
  startScaleStack,
  whoami,
  whoamiSub,
  type ScaleStack,
} from './scale-harness.ts';
import { sessionLessLoad } from './scale-load.ts';
import { proxyDelta, type Proxy } from './scale-proxy-stats.ts';

const redisUrl = process.env.MCP_LAB_REDIS_URL;
const ok = await scalePrereqs({ proxy: true });

function dbUrl(db: number): string {
  const u = new URL(redisUrl!);
  u.pathname = `/${db}`;
  return u.href;
}

/** How many requests for `path` each replica logged (pino's `incoming request` lines at level info). */
function served(replicas: readonly { process: RunningProcess }[], method: string, path: string): number[] {
  return replicas.map(
    (r) =>
      r.process
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"incoming request"') && line.includes(`"method":"${method}"`) && line.includes(`"path":"${path}"`)).length,
  );
}

/**
 * The requests each replica logged for `path` since `before`, once at least `atLeast` of them have arrived in all:
 * a replica's log lines reach this process over a pipe, which may lag behind the HTTP answers on a loaded machine.
 */
async function servedSince(replicas: readonly { process: RunningProcess }[], before: readonly number[], path: string, atLeast: number): Promise<number[]> {
  const delta = () => served(replicas, 'POST', path).map((n, i) => n - before[i]!);
  await vi.waitFor(() => expect(delta().reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(atLeast), { timeout: 10_000, interval: 50 });
  return delta();
}

/** What the proxy tests share: the replicas, HAProxy in front of them, and the two users' tokens. */
interface ProxySuite {
  stack: ScaleStack;
  proxy: Proxy;
  alice: string;
  bob: string;
}

describe.runIf(ok)('three replicas behind HAProxy (docker/scale/haproxy.cfg)', () => {
  const suite = {} as ProxySuite;

  beforeAll(async () => {
    suite.stack = await startScaleStack(redisUrl!, 3, 13, { MCP_LOG_LEVEL: 'info' });
    suite.proxy = await startProxy(suite.stack.replicas.map((r) => r.url));
    suite.alice = await suite.stack.token('alice');
    suite.bob = await suite.stack.token('bob');
  });
  afterAll(async () => {
    await suite.proxy?.process.stop();
    await suite.stack?.close();
  });

  streamableAffinityTests(suite);
  legacySseTests(suite);
  sessionRefusalTests(suite);
});

/** Streamable HTTP: a session stays on its replica, new sessions are spread over all of them. */
function streamableAffinityTests(suite: ProxySuite): void {
  it('the SDK client over Streamable HTTP stays on the replica that opened its session', async () => {
    const before = served(suite.stack.replicas, 'POST', '/mcp');
    const { client } = await connectStreamable(suite.proxy.url, suite.alice);
    try {
      for (let i = 0; i < 6; i++) {
        expect(toolJson<{ sub: string }>(await client.callTool({ name: 'whoami', arguments: {} })).sub).toBe('alice');
      }
    } finally {
      await client.close();
    }
    const delta = await servedSince(suite.stack.replicas, before, '/mcp', 7);
    // initialize and the six calls (at least): all on one replica.
    expect(delta.filter((n) => n > 0)).toHaveLength(1);
    expect(Math.max(...delta)).toBeGreaterThanOrEqual(7);
  });

  it('new sessions are spread round-robin over the replicas', async () => {
    // Which replica holds each session is what the session directory in Redis says.
    const redis = new Redis(dbUrl(13));
    try {
      const holders = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${suite.proxy.url}/mcp`, {
          method: 'POST',
          headers: { ...MCP_HEADERS, authorization: `Bearer ${suite.alice}` },
          body: JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, protocolVersion: '2025-06-18' } }),
        });
        expect(res.status).toBe(200);
        await res.text();
        const entry = await redis.get(`mcp-lab:session:streamable:${res.headers.get('mcp-session-id')}`);
        holders.add((JSON.parse(entry!) as { replica: string }).replica);
      }
      expect(holders.size).toBe(3);
    } finally {
      await redis.quit();
    }
  });
}

/** Legacy HTTP+SSE: POSTs go round-robin and reach the stream through the relay. */
function legacySseTests(suite: ProxySuite): void {
  it('the SDK client over legacy HTTP+SSE works while its POSTs land on every replica', async () => {
    const before = served(suite.stack.replicas, 'POST', '/messages');
    const client = await connectSseWithBearer(suite.proxy.url, suite.alice);
    try {
      for (let i = 0; i < 6; i++) {
        expect(toolJson<{ sub: string }>(await client.callTool({ name: 'whoami', arguments: {} })).sub).toBe('alice');
      }
    } finally {
      await client.close();
    }
    const delta = await servedSince(suite.stack.replicas, before, '/messages', 6);
    expect(delta.every((n) => n > 0), `POST /messages per replica: ${delta.join(', ')}`).toBe(true);
  });
}

/** Another user's session is refused through the proxy too. */
function sessionRefusalTests(suite: ProxySuite): void {
  it("another user presenting alice's Streamable HTTP session through the proxy is refused (403)", async () => {
    const { client, transport } = await connectStreamable(suite.proxy.url, suite.alice);
    try {
      const res = await fetch(`${suite.proxy.url}/mcp`, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${suite.bob}`, 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
      });
      expect(res.status).toBe(403);
      // 403 session_forbidden as a JSON-RPC error, no Bearer challenge: the token is valid, no scope would help.
      expect(res.headers.get('www-authenticate')).toBeNull();
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-31403);
    } finally {
      await client.close();
    }
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe.runIf(ok)('replicas going away under load, behind HAProxy', () => {
  let stack: ScaleStack;
  let proxy: Proxy;
  let alice: string;

  beforeAll(async () => {
    // One subject drives the whole load: its per-subject rate limit is lifted (each replica counts its own). The
    // drain delay outlasts the proxy's time to take a replica out (fall 2 at fastinter 250 ms after inter 1 s).
    stack = await startScaleStack(redisUrl!, 3, 15, { MCP_RATE_LIMIT_PER_S: '100000', MCP_RATE_LIMIT_BURST: '100000', MCP_DRAIN_DELAY_MS: '2500' });
    proxy = await startProxy(stack.replicas.map((r) => r.url));
    alice = await stack.token('alice');
  });
  afterAll(async () => {
    await proxy?.process.stop();
    await stack?.close();
  });

  rollingRestartTest(() => ({ stack, proxy, alice }));
  killedReplicaTest(() => ({ stack, proxy, alice }));
});

interface LoadSuite {
  readonly stack: ScaleStack;
  readonly proxy: Proxy;
  readonly alice: string;
}

/**
 * SIGTERM to each replica in turn, under load, with no client retry: the proxy takes each out (its readiness 503)
 * while it still listens, its SSE stream ends cleanly, it exits 0 and is back in the proxy before the next goes.
 */
function rollingRestartTest(suite: () => LoadSuite): void {
  it('a rolling restart of all three replicas under modern-era load ends with 0 failed requests, none retried by the client', async () => {
    const { stack, proxy, alice } = suite();
    const streams = await Promise.all(stack.replicas.map((r) => openSse(`${r.url}/sse`, bearer(alice))));
    const before = await proxy.servers();
    const started = Date.now();
    const restarts = (async () => {
      await sleep(300);
      for (let i = 0; i < 3; i++) {
        const name = `rs${i + 1}`;
        const stopped = stack.stop(i);
        await proxy.waitFor(name, (status) => status.startsWith('DOWN'));
        expect(await accepts(stack.replicas[i]!.url), `${name} stopped listening before the proxy took it out`).toBe(true);
        const last = await nextEvent(streams[i]!, 30_000);
        expect({ event: last.event, reason: JSON.parse(last.data).reason }).toEqual({ event: 'session_ended', reason: 'server_shutdown' });
        await stopped;
        await stack.start(i);
        await proxy.waitFor(name, (status) => status === 'UP');
      }
    })();
    try {
      const result = await sessionLessLoad(proxy.url, alice, restarts, { sub: 'alice', workers: 4, retries: 0 });
      await restarts;
      const delta = proxyDelta(before, await proxy.servers());
      const detail = `${result.sent} requests in ${Date.now() - started} ms; proxy: ${JSON.stringify(delta)}`;
      expect(result.failures, detail).toEqual([]);
      expect(result.sent, detail).toBeGreaterThan(200);
      // No replica answered a 5xx and the proxy re-sent nothing: the drain alone kept every request whole.
      expect(delta.map((d) => [d.responses5xx, d.retries]), detail).toEqual([[0, 0], [0, 0], [0, 0]]);
    } finally {
      for (const s of streams) s.close();
    }
  }, 120_000);
}

/** SIGKILL (no drain): clients retry the requests it cut; only its own streams end. */
function killedReplicaTest(suite: () => LoadSuite): void {
  it('killing one replica mid-run loses no modern-era request that is retried, and ends only the streams it held', async () => {
    const { stack, proxy, alice } = suite();
    // A legacy SSE stream held by each replica, initialized through the proxy.
    const streams = await Promise.all(stack.replicas.map((r) => openInitialized(r.url, bearer(alice), proxy.url)));
    try {
      const killed = (async () => {
        await sleep(500);
        stack.replicas[1]!.process.child.kill('SIGKILL');
        await sleep(2_500);
      })();
      const result = await sessionLessLoad(proxy.url, alice, killed, { sub: 'alice', workers: 4, retries: 2 });
      expect(result.sent).toBeGreaterThan(50);
      expect(result.failures, `retried ${result.retried} of ${result.sent}`).toEqual([]);
      // The killed replica's stream is cut (no final event) and unknown to every replica now.
      await expect(nextEvent(streams[1]!, 10_000)).rejects.toThrow(/ended|terminated/);
      expect((await postMessage(proxy.url, streams[1]!.endpoint, whoami(9), bearer(alice))).status).toBe(404);
      // The others still answer requests POSTed through the proxy (to any replica, relayed to the holder).
      for (const i of [0, 2]) {
        expect((await postMessage(proxy.url, streams[i]!.endpoint, whoami(10 + i), bearer(alice))).status).toBe(202);
        expect(whoamiSub(await responseTo(streams[i]!, 10 + i))).toBe('alice');
      }
    } finally {
      for (const s of streams) s.close();
    }
  }, 60_000);
}
