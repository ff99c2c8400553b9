/**
 * The drain (http/drain.ts) on a real socket, in process. Readiness flips to 503 when the drain begins while
 * requests are still served, each response closing its connection; after the delay the listener stops, a request
 * in flight finishes with 200, and only then do the held streams end cleanly (legacy SSE and 2025 GET streams with
 * `session_ended` `server_shutdown`, `subscriptions/listen` with the SDK's graceful close). The drain timeout cuts
 * what is still open. tests/rs-drain.test.ts does the same to the real process with SIGTERM.
 */
import { Agent } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accepts, rawRequest, slowPost } from '@mcp-lab/test-kit/raw-http';
import { drainAndClose, READINESS_PATH } from '../src/http/drain.ts';
import { INIT_BODY, MCP_HEADERS, mint, modernRequest, openEventStream, startListeningRs } from './helpers.ts';
import type { ListeningRs, SseEvent } from './helpers.ts';

let rs: ListeningRs | undefined;
afterEach(async () => {
  await rs?.close();
  rs = undefined;
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const WHOAMI = modernRequest('tools/call', { name: 'whoami', arguments: {} });

/** A 2026-07-28 `subscriptions/listen` stream: its text so far, and the whole of it once the server ends it. */
async function openListen(base: string, token: string) {
  const req = modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } }, 77);
  const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { ...req.headers, ...bearer(token) }, body: JSON.stringify(req.payload) });
  expect(res.status).toBe(200);
  let text = '';
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const whole = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += value;
    }
  })();
  return { text: () => text, whole };
}

function endReason(events: readonly SseEvent[]): string | undefined {
  const last = events.at(-1);
  return last?.event === 'session_ended' ? (JSON.parse(last.data) as { reason: string }).reason : undefined;
}

describe('readiness', () => {
  it('GET /healthz answers 200 without credentials whatever the Host, never cached, and 503 once the drain began', async () => {
    rs = await startListeningRs();
    const ask = () => rs!.app.inject({ method: 'GET', url: READINESS_PATH, headers: { host: 'health-check.internal' } });
    const ready = await ask();
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
    expect(ready.headers['cache-control']).toBe('no-store');
    rs.app.drain.begin();
    const draining = await ask();
    expect(draining.statusCode).toBe(503);
    expect(draining.json()).toEqual({ status: 'draining' });
    expect(draining.headers['cache-control']).toBe('no-store');
  });
});

describe('the drain delay', () => {
  it('still serves every request, each response closing its connection (kept alive before the drain)', async () => {
    rs = await startListeningRs();
    const token = await mint(rs.keys, { aud: `${rs.base}/mcp` });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const call = () => rawRequest(`${rs!.base}/mcp`, { method: 'POST', headers: { ...WHOAMI.headers, ...bearer(token) }, agent });
      const before = call();
      before.req.end(JSON.stringify(WHOAMI.payload));
      expect((await before.answer).headers.connection).toBe('keep-alive');
      rs.app.drain.begin();
      const during = call();
      during.req.end(JSON.stringify(WHOAMI.payload));
      const answer = await during.answer;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).result.content[0].text).toContain('"sub":"alice"');
      expect(answer.headers.connection).toBe('close');
      // A response the SDK transport writes itself (2025 initialize, hijacked) closes its connection too.
      const init = rawRequest(`${rs.base}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(token) }, agent });
      init.req.end(JSON.stringify(INIT_BODY));
      const initAnswer = await init.answer;
      expect(initAnswer.status).toBe(200);
      expect(initAnswer.headers.connection).toBe('close');
    } finally {
      agent.destroy();
    }
  });

  it('keeps the listener open with readiness 503 until it ends (here cut short, as by a second signal)', async () => {
    rs = await startListeningRs();
    const token = await mint(rs.keys, { aud: `${rs.base}/mcp` });
    const skip = new AbortController();
    const done = drainAndClose(rs.app, { delayMs: 600_000, timeoutMs: 5_000, skipDelay: skip.signal });
    expect((await fetch(`${rs.base}${READINESS_PATH}`)).status).toBe(503);
    const served = await fetch(`${rs.base}/mcp`, { method: 'POST', headers: { ...WHOAMI.headers, ...bearer(token) }, body: JSON.stringify(WHOAMI.payload) });
    expect(served.status).toBe(200);
    expect(await served.text()).toContain('alice');
    skip.abort();
    await done;
    expect(await accepts(rs.base)).toBe(false);
  });
});

describe('after the delay', () => {
  it('stops listening, lets the request in flight finish with 200, then ends the held streams cleanly', async () => {
    rs = await startListeningRs({ MCP_LISTEN_KEEPALIVE_MS: '0' });
    const base = rs.base;
    const mcpToken = await mint(rs.keys, { aud: `${base}/mcp` });
    const sseToken = await mint(rs.keys, { aud: `${base}/sse` });
    const sse = await openEventStream(`${base}/sse`, bearer(sseToken));
    expect((await sse.next()).event).toBe('endpoint');
    const init = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...bearer(mcpToken) }, payload: INIT_BODY });
    const sessionId = init.headers['mcp-session-id'] as string;
    const getStream = await openEventStream(`${base}/mcp`, { ...bearer(mcpToken), 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' });
    expect(getStream.status).toBe(200);
    const listen = await openListen(base, mcpToken);
    await vi.waitFor(() => expect(listen.text()).toContain('notifications/subscriptions/acknowledged'));
    const ended: string[] = [];
    const sseEvents = sse.rest().finally(() => ended.push('sse'));
    const getEvents = getStream.rest().finally(() => ended.push('get'));
    const listenText = listen.whole.finally(() => ended.push('listen'));

    const inFlight = slowPost(`${base}/mcp`, { ...WHOAMI.headers, ...bearer(mcpToken) }, JSON.stringify(WHOAMI.payload));
    await vi.waitFor(() => expect(rs!.app.drain.pending).toBe(1));
    const done = drainAndClose(rs.app, { delayMs: 0, timeoutMs: 30_000 });
    await vi.waitFor(async () => expect(await accepts(base)).toBe(false));
    // The listener is gone, the request is still in flight: the streams wait for it.
    expect(ended).toEqual([]);
    inFlight.finish();
    const answer = await inFlight.answer;
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body).result.content[0].text).toContain('"sub":"alice"');

    expect(endReason(await sseEvents)).toBe('server_shutdown');
    expect(endReason(await getEvents)).toBe('server_shutdown');
    // The SDK's graceful close of a listen stream: the listen request's (empty) result, naming its subscription.
    const last = (await listenText).trim().split('\n').filter((l) => l.startsWith('data:')).at(-1)!;
    expect(JSON.parse(last.slice(5))).toMatchObject({ id: 77, result: { resultType: 'complete', _meta: { 'io.modelcontextprotocol/subscriptionId': 77 } } });
    await done;
  });

  it('cuts a request still in flight at the drain timeout, and the app closes all the same', async () => {
    rs = await startListeningRs();
    const token = await mint(rs.keys, { aud: `${rs.base}/mcp` });
    const stuck = slowPost(`${rs.base}/mcp`, { ...WHOAMI.headers, ...bearer(token) }, JSON.stringify(WHOAMI.payload));
    await vi.waitFor(() => expect(rs!.app.drain.pending).toBe(1));
    const done = drainAndClose(rs.app, { delayMs: 0, timeoutMs: 300 });
    await expect(stuck.answer).rejects.toThrow(/socket hang up|ECONNRESET/);
    await done;
    expect(await accepts(rs.base)).toBe(false);
  });
});
