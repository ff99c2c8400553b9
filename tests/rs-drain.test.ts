/**
 * The drain of the real process (`node mcp-server/src/main.ts`, with its Redis) on SIGTERM, without a proxy: the
 * readiness endpoint flips to 503 at once while MCP requests are still served; a request in flight when the signal
 * came completes with 200; the held streams stay open through the drain delay and then end cleanly (legacy SSE with
 * `session_ended` `server_shutdown`, `subscriptions/listen` with the SDK's graceful close); the process exits 0. A
 * second signal skips what is left of the delay. mcp-server/test/drain.test.ts covers the phases after the delay.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { accepts, slowPost } from '@mcp-lab/test-kit/raw-http';
import { modernRequest } from '@mcp-lab/test-kit/mcp-messages';
import { openSse } from '@mcp-lab/test-kit/sse';
import { scalePrereqs, startScaleStack, type ScaleStack } from './scale-harness.ts';

const redisUrl = process.env.MCP_LAB_REDIS_URL;
const ok = await scalePrereqs();

/** A 2026-07-28 request (headers with the token, and body) for fetch. */
function modern(method: string, params: Record<string, unknown>, id: number, token: string) {
  const req = modernRequest(method, params, id);
  return { headers: { ...req.headers, authorization: `Bearer ${token}` }, body: JSON.stringify(req.payload) };
}

/**
 * The pino messages the process logged, in the order they were logged: by pino's `time` (ms), ties in output order.
 * pino writes to stdout asynchronously (sonic-boom), so the output alone is not proof of order.
 */
function logMessages(output: string): string[] {
  const entries = output.split('\n').flatMap((line, index) => {
    const json = line.slice(line.indexOf('{'));
    try {
      const { msg, time } = JSON.parse(json) as { msg?: unknown; time?: unknown };
      return typeof msg === 'string' && typeof time === 'number' ? [{ msg, time, index }] : [];
    } catch {
      return []; // not a log line (a Node warning)
    }
  });
  return entries.sort((a, b) => a.time - b.time || a.index - b.index).map((e) => e.msg);
}

describe.runIf(ok)('SIGTERM to the resource server process', () => {
  let stack: ScaleStack;
  let token: string;

  beforeAll(async () => {
    // A delay no test waits out: the second signal ends it.
    stack = await startScaleStack(redisUrl!, 1, 10, { MCP_DRAIN_DELAY_MS: '600000', MCP_LOG_LEVEL: 'info' });
    token = await stack.token('alice');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('drains: readiness 503, requests still served, the request in flight answered, streams ended cleanly, exit 0', async () => {
    const { url, process: proc } = stack.replicas[0]!;
    const sse = await openSse(`${url}/sse`, { authorization: `Bearer ${token}` });
    const listenReq = modern('subscriptions/listen', { notifications: { toolsListChanged: true } }, 77, token);
    const listen = await fetch(`${url}/mcp`, { method: 'POST', headers: listenReq.headers, body: listenReq.body });
    expect(listen.status).toBe(200);
    const listenText = listen.text();
    const ended: string[] = [];
    const sseEnd = sse.next().finally(() => ended.push('sse'));
    void listenText.finally(() => ended.push('listen'));
    const whoami = (id: number) => modern('tools/call', { name: 'whoami', arguments: {} }, id, token);
    const inFlight = slowPost(`${url}/mcp`, whoami(1).headers, whoami(1).body);
    // Logged as it arrives: the listen request, then this one.
    const arrived = () => proc.output().split('\n').filter((l) => l.includes('"msg":"incoming request"') && l.includes('"path":"/mcp"')).length;
    await vi.waitFor(() => expect(arrived()).toBe(2));

    // 'close': the process exited and its output is all read.
    const exited = once(proc.child, 'close');
    proc.child.kill('SIGTERM');
    await vi.waitFor(async () => expect((await fetch(`${url}/healthz`)).status).toBe(503));
    // During the delay: served as usual, and nothing ended.
    const during = await fetch(`${url}/mcp`, { method: 'POST', ...whoami(2) });
    expect(during.status).toBe(200);
    expect(await during.text()).toContain('alice');
    inFlight.finish();
    const answer = await inFlight.answer;
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(answer.body).toContain('alice');
    expect(ended).toEqual([]);

    proc.child.kill('SIGTERM');
    const last = await sseEnd;
    expect({ event: last.event, reason: JSON.parse(last.data).reason }).toEqual({ event: 'session_ended', reason: 'server_shutdown' });
    const finalData = (await listenText).trim().split('\n').filter((l) => l.startsWith('data:')).at(-1)!;
    expect(JSON.parse(finalData.slice(5))).toMatchObject({ id: 77, result: { resultType: 'complete' } });
    expect(await exited).toEqual([0, null]);
    expect(await accepts(url)).toBe(false);
    const phases = logMessages(proc.output()).filter((m) => /^(shutting down|draining|second signal|drain delay|stopped listening|requests in flight done|closed)/.test(m));
    expect(phases.map((m) => m.split(/[:;]/)[0]), `the process's log:\n${proc.output().slice(-6_000)}`).toEqual([
      'shutting down',
      'draining',
      'second signal',
      'drain delay cut short',
      'stopped listening',
      'requests in flight done',
      'closed',
    ]);
  });
});
