/**
 * Replicas going away under load in the compose stack, from the host through its proxy: a rolling restart (each
 * replica drains on `docker stop`) fails no request and no client retries; `docker kill` of one loses no request
 * that the client retries and ends only the streams it held. The proxy's own view (its stats page) tells when a
 * replica is out and back in. Called by tests/scale-compose.test.ts with the running stack.
 */
import { expect, it } from 'vitest';
import { run } from '@mcp-lab/test-kit/docker';
import { openSse, type SseStream } from '@mcp-lab/test-kit/sse';
import { obtainToken } from '@mcp-lab/test-kit/tokens';
import { onlyReplica, served, servedSince, type ComposeLab } from './scale-compose-lab.ts';
import { INITIALIZE, INITIALIZED, nextEvent, postMessage, responseTo, whoami, whoamiSub } from './scale-harness.ts';
import { sessionLessLoad } from './scale-load.ts';
import { parseProxyStats, proxyDelta, waitForServer, type ProxyServer } from './scale-proxy-stats.ts';

/** The proxy's view of the replicas: its stats page (MCP_LAB_PROXY_STATS, inside the lab's network namespace). */
async function proxyServers(lab: ComposeLab): Promise<ProxyServer[]> {
  const script = "fetch('http://127.0.0.1:3199/stats;csv').then((r) => r.text()).then((t) => process.stdout.write(t))";
  const r = await lab.compose(['exec', '-T', 'lab-net', 'node', '-e', script]);
  if (r.code !== 0) throw new Error(`reading the proxy's stats failed: ${r.stderr}`);
  return parseProxyStats(r.stdout);
}

/** How the service's container last exited (`docker inspect` State.ExitCode), while it is stopped. */
async function exitCode(lab: ComposeLab, service: string): Promise<string> {
  const id = (await lab.compose(['ps', '-a', '-q', service])).stdout.trim();
  return (await run('docker', ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id])).stdout.trim();
}

/** The tests; `lab` is filled in by the suite's beforeAll. */
export function replicaLossTests(lab: ComposeLab): void {
  it('a rolling restart of the three replicas (docker stop, start) under modern-era load fails no request', async () => {
    const { access_token: token } = await obtainToken({ issuer: lab.idpIssuer, resource: `${lab.rsUrl}/mcp`, scope: 'notes:read', username: 'alice', password: 'alice-password' });
    const sub = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
    const before = await proxyServers(lab);
    const restarts = (async () => {
      for (const name of ['rs1', 'rs2', 'rs3']) {
        // stop waits for the container to exit (stop_grace_period 20 s, longer than the drain).
        const stop = await lab.compose(['stop', name]);
        expect(stop.code, stop.stderr).toBe(0);
        expect(await exitCode(lab, name), `${name} did not drain and exit 0`).toBe('exited 0');
        const start = await lab.compose(['start', name]);
        expect(start.code, start.stderr).toBe(0);
        await waitForServer(() => proxyServers(lab), name, (status) => status === 'UP', 60_000, 250);
      }
    })();
    // Two loops, 40 ms apart: within the per-user rate limit (50/s on each replica) even on two replicas.
    const result = await sessionLessLoad(lab.rsUrl, token, restarts, { sub, workers: 2, retries: 0, pauseMs: 40 });
    await restarts;
    const after = await proxyServers(lab);
    expect(result.failures, `${result.sent} sent`).toEqual([]);
    expect(result.sent).toBeGreaterThan(100);
    // No replica answered a 5xx and the proxy re-sent nothing: the drain alone kept every request whole.
    expect(proxyDelta(before, after).map((d) => [d.responses5xx, d.retries])).toEqual([[0, 0], [0, 0], [0, 0]]);
  }, 300_000);

  it('killing one replica (docker kill) under modern-era load loses no request that is retried and ends only its streams', async () => {
    const { access_token: token } = await obtainToken({ issuer: lab.idpIssuer, resource: `${lab.rsUrl}/mcp`, scope: 'notes:read', username: 'alice', password: 'alice-password' });
    const sub = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
    const headers = { authorization: `Bearer ${token}` };
    // Three legacy SSE streams opened one after the other through the proxy (round-robin: one on each replica),
    // and only then initialized: opening and initializing one at a time takes three requests, which would put every
    // stream on the same replica. Which replica holds each is read from the replicas' request logs.
    const held = new Map<string, SseStream>();
    const holders: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const before = await served(lab, 'GET', '/sse');
        const stream = await openSse(`${lab.rsUrl}/sse`, headers);
        const holder = onlyReplica(await servedSince(lab, before, 'GET', '/sse', 1));
        holders.push(holder);
        held.set(holder, stream);
      }
      expect(holders.toSorted(), 'the replicas holding the three streams').toEqual(['rs1', 'rs2', 'rs3']);
      for (const stream of held.values()) {
        expect((await postMessage(lab.rsUrl, stream.endpoint, INITIALIZE, headers)).status).toBe(202);
        expect((await responseTo(stream, 1)).result?.serverInfo).toBeDefined();
        expect((await postMessage(lab.rsUrl, stream.endpoint, INITIALIZED, headers)).status).toBe(202);
      }
      const killed = (async () => {
        await new Promise((r) => setTimeout(r, 500));
        const kill = await lab.compose(['kill', 'rs2']);
        expect(kill.code, kill.stderr).toBe(0);
        await new Promise((r) => setTimeout(r, 2_500));
      })();
      const result = await sessionLessLoad(lab.rsUrl, token, killed, { sub, workers: 2, retries: 2, pauseMs: 40 });
      await killed;
      expect(result.sent).toBeGreaterThan(50);
      expect(result.failures, `retried ${result.retried} of ${result.sent}`).toEqual([]);
      // rs2's stream is cut and unknown to every replica now; the others still answer, relayed to their holders.
      const victim = held.get('rs2')!;
      await expect(nextEvent(victim, 10_000)).rejects.toThrow(/ended|terminated/);
      expect((await postMessage(lab.rsUrl, victim.endpoint, whoami(9), headers)).status).toBe(404);
      let id = 10;
      for (const [name, stream] of held) {
        if (name === 'rs2') continue;
        expect((await postMessage(lab.rsUrl, stream.endpoint, whoami(++id), headers)).status, name).toBe(202);
        expect(whoamiSub(await responseTo(stream, id))).toBe(sub);
      }
    } finally {
      for (const stream of held.values()) stream.close();
    }
    // Back in for the tests after this one.
    const start = await lab.compose(['start', 'rs2']);
    expect(start.code, start.stderr).toBe(0);
    await waitForServer(() => proxyServers(lab), 'rs2', (status) => status === 'UP', 60_000, 250);
  }, 180_000);
}
