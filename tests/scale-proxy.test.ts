/**
 * Through the lab's real proxy: Debian's HAProxy running docker/scale/haproxy.cfg (the file the compose profile
 * uses) on loopback, in front of three resource-server replicas sharing a real Redis. The official SDK client
 * completes both 2025-era flows through it: Streamable HTTP stays on its replica by the affinity the proxy learns
 * from the `Mcp-Session-Id` response header; legacy HTTP+SSE POSTs go round-robin and are relayed over Redis to
 * the replica holding the stream. Which replica answered is read from the replicas' own request logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrereq } from '@mcp-lab/test-kit/prereq';
import { connectSseWithBearer, connectStreamable, MCP_HEADERS, toolJson } from '@mcp-lab/test-kit/rs-session';
import type { RunningProcess } from '@mcp-lab/test-kit/processes';
import { haproxyPath, INITIALIZE, redisReachable, startProxy, startScaleStack, type ScaleStack } from './scale-harness.ts';

const redisUrl = process.env.MCP_LAB_REDIS_URL;
const reachable = await redisReachable(redisUrl);
const haproxy = haproxyPath();
const ok =
  requirePrereq('Redis', reachable.ok, reachable.reason) &&
  requirePrereq('HAProxy', haproxy !== undefined, 'haproxy is not on PATH (bash scripts/ensure-haproxy.sh installs Debian\'s)');

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

describe.runIf(ok)('three replicas behind HAProxy (docker/scale/haproxy.cfg)', () => {
  let stack: ScaleStack;
  let proxy: { url: string; process: RunningProcess };
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    stack = await startScaleStack(redisUrl!, 3, 13, { MCP_LOG_LEVEL: 'info' });
    proxy = await startProxy(stack.replicas.map((r) => r.url));
    alice = await stack.token('alice');
    bob = await stack.token('bob');
  });
  afterAll(async () => {
    await proxy?.process.stop();
    await stack?.close();
  });

  it('the SDK client over Streamable HTTP stays on the replica that opened its session', async () => {
    const before = served(stack.replicas, 'POST', '/mcp');
    const { client } = await connectStreamable(proxy.url, alice);
    try {
      for (let i = 0; i < 6; i++) {
        expect(toolJson<{ sub: string }>(await client.callTool({ name: 'whoami', arguments: {} })).sub).toBe('alice');
      }
    } finally {
      await client.close();
    }
    const delta = served(stack.replicas, 'POST', '/mcp').map((n, i) => n - before[i]!);
    // initialize, notifications/initialized, six calls: all on one replica.
    expect(delta.filter((n) => n > 0)).toHaveLength(1);
    expect(Math.max(...delta)).toBeGreaterThanOrEqual(8);
  });

  it('new sessions are spread round-robin over the replicas', async () => {
    const before = served(stack.replicas, 'POST', '/mcp');
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${proxy.url}/mcp`, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}` },
        body: JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, protocolVersion: '2025-06-18' } }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    const delta = served(stack.replicas, 'POST', '/mcp').map((n, i) => n - before[i]!);
    expect(delta).toEqual([1, 1, 1]);
  });

  it('the SDK client over legacy HTTP+SSE works while its POSTs land on every replica', async () => {
    const before = served(stack.replicas, 'POST', '/messages');
    const client = await connectSseWithBearer(proxy.url, alice);
    try {
      for (let i = 0; i < 6; i++) {
        expect(toolJson<{ sub: string }>(await client.callTool({ name: 'whoami', arguments: {} })).sub).toBe('alice');
      }
    } finally {
      await client.close();
    }
    const delta = served(stack.replicas, 'POST', '/messages').map((n, i) => n - before[i]!);
    expect(delta.every((n) => n > 0), `POST /messages per replica: ${delta.join(', ')}`).toBe(true);
  });

  it("another user presenting alice's Streamable HTTP session through the proxy is refused (403)", async () => {
    const { client, transport } = await connectStreamable(proxy.url, alice);
    try {
      const res = await fetch(`${proxy.url}/mcp`, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${bob}`, 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    } finally {
      await client.close();
    }
  });
});
