/**
 * Through the lab's real proxy: Debian's HAProxy running docker/scale/haproxy.cfg (the file the compose profile
 * uses) on loopback, in front of three resource-server replicas sharing a real Redis. The official SDK client
 * completes both 2025-era flows through it: Streamable HTTP stays on its replica by the affinity the proxy learns
 * from the `Mcp-Session-Id` response header; legacy HTTP+SSE POSTs go round-robin and are relayed over Redis to
 * the replica holding the stream. Which replica answered is read from the replicas' own request logs. (The official
 * v2 SDK client, 2026-07-28 with OAuth and a listen stream across replicas, through the same proxy:
 * tests/scale-proxy-v2.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { requirePrereq } from '@mcp-lab/test-kit/prereq';
import { connectSseWithBearer, connectStreamable, MCP_HEADERS, toolJson } from '@mcp-lab/test-kit/rs-session';
import type { RunningProcess } from '@mcp-lab/test-kit/processes';
import { Redis } from 'ioredis';
import { haproxyPath, INITIALIZE, redisReachable, startProxy, startScaleStack, type ScaleStack } from './scale-harness.ts';

const redisUrl = process.env.MCP_LAB_REDIS_URL;
const reachable = await redisReachable(redisUrl);
const haproxy = haproxyPath();
const ok =
  requirePrereq('Redis', reachable.ok, reachable.reason) &&
  requirePrereq('HAProxy', haproxy !== undefined, 'haproxy is not on PATH (bash scripts/ensure-haproxy.sh installs Debian\'s)');

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
  proxy: { url: string; process: RunningProcess };
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
const MODERN_HEADERS = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami' };

/**
 * Modern-era (2026-07-28, stateless) requests sent by `workers` loops through the proxy, round-robin over the
 * replicas, until `until` resolves. A failed request is retried up to twice, 200 ms apart, as a client retries a request whose connection
 * broke: the RS has no drain phase, so a request in flight when a replica stops is cut (the proxy re-sends only
 * requests that never reached a replica). Counts what still failed after the retries.
 */
async function sessionLessLoad(url: string, token: string, workers: number, until: Promise<void>) {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  let sent = 0;
  let retried = 0;
  const failures: string[] = [];
  const once = async (): Promise<string | undefined> => {
    try {
      const res = await fetch(`${url}/mcp`, {
        method: 'POST',
        headers: { ...MCP_HEADERS, ...MODERN_HEADERS, authorization: `Bearer ${token}` },
        body: MODERN_WHOAMI,
      });
      const body = await res.text();
      const ok = res.status === 200 && body.includes('"result"') && body.includes('alice') && !body.includes('"error"');
      return ok ? undefined : `HTTP ${res.status} ${body.slice(0, 160)}`;
    } catch (err) {
      return (err as Error).message;
    }
  };
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!done) {
        sent++;
        const first = await once();
        if (first === undefined) continue;
        retried++;
        let last: string | undefined = first;
        for (let attempt = 0; attempt < 2 && last !== undefined; attempt++) {
          await new Promise((r) => setTimeout(r, 200));
          last = await once();
        }
        if (last !== undefined) failures.push(`${first} / after retries: ${last}`);
      }
    }),
  );
  return { sent, retried, failures };
}

describe.runIf(ok)('replicas going away under load, behind HAProxy', () => {
  let stack: ScaleStack;
  let proxy: { url: string; process: RunningProcess };
  let alice: string;

  beforeAll(async () => {
    // One subject drives the whole load: its per-subject rate limit is lifted (each replica counts its own).
    stack = await startScaleStack(redisUrl!, 3, 15, { MCP_RATE_LIMIT_PER_S: '100000', MCP_RATE_LIMIT_BURST: '100000' });
    proxy = await startProxy(stack.replicas.map((r) => r.url));
    alice = await stack.token('alice');
  });
  afterAll(async () => {
    await proxy?.process.stop();
    await stack?.close();
  });

  it('a rolling restart of all three replicas under modern-era load ends with 0 failed requests (a cut one retried)', async () => {
    const restarts = (async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 300));
        await stack.restart(i);
        // Let the proxy's health check see it back (inter 1s, rise 1) before the next one goes.
        await new Promise((r) => setTimeout(r, 1_500));
      }
    })();
    const result = await sessionLessLoad(proxy.url, alice, 4, restarts);
    await restarts;
    expect(result.sent).toBeGreaterThan(50);
    expect(result.failures, `retried ${result.retried} of ${result.sent}`).toEqual([]);
  });

  it('killing one replica mid-run loses no modern-era request that is retried', async () => {
    const killed = (async () => {
      await new Promise((r) => setTimeout(r, 500));
      stack.replicas[1]!.process.child.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 2_500));
    })();
    const result = await sessionLessLoad(proxy.url, alice, 4, killed);
    expect(result.sent).toBeGreaterThan(50);
    expect(result.failures, `retried ${result.retried} of ${result.sent}`).toEqual([]);
  });
});
