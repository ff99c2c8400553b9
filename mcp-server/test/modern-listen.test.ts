/**
 * 2026-07-28 `subscriptions/listen` on a real socket: a long-lived POST whose response is an SSE stream that opens
 * with the acknowledgment, stays alive with SSE comments, and ends when the token that opened it expires.
 */
import { describe, expect, it } from 'vitest';
import { mint, modernRequest } from './helpers.ts';
import { useListeningRs } from './use-rs.ts';

const rs = useListeningRs({ MCP_LISTEN_KEEPALIVE_MS: '50' });

async function listen(token: string | undefined, signal?: AbortSignal) {
  const req = modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } }, 77);
  return fetch(`${rs.base}/mcp`, {
    method: 'POST',
    headers: { ...req.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(req.payload),
    ...(signal ? { signal } : {}),
  });
}

/** Reads the stream until `until` holds for what arrived, or the stream ends; returns the text and whether it ended. */
async function readUntil(res: Response, until: (text: string) => boolean, timeoutMs: number) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let ended = false;
  const deadline = Date.now() + timeoutMs;
  while (!until(text) && Date.now() < deadline) {
    const next = await Promise.race([
      reader.read(),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(1, deadline - Date.now()))),
    ]);
    if (next === 'timeout') break;
    if (next.done) {
      ended = true;
      break;
    }
    text += decoder.decode(next.value, { stream: true });
  }
  return { text, ended, reader };
}

describe('subscriptions/listen', () => {
  it('acknowledges first (with the subscription id), then sends keep-alive comments', async () => {
    const token = await mint(rs.keys, { aud: `${rs.base}/mcp` });
    const stop = new AbortController();
    const res = await listen(token, stop.signal);
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const { text } = await readUntil(res, (t) => t.includes('data:') && /^:/m.test(t), 3000);
      const first = text.split('\n').find((l) => l.startsWith('data:'))!;
      expect(JSON.parse(first.slice(5))).toMatchObject({
        method: 'notifications/subscriptions/acknowledged',
        params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 77 }, notifications: { toolsListChanged: true } },
      });
      expect(text).toMatch(/^:/m);
    } finally {
      stop.abort();
    }
  });

  it('ends the stream when the token that opened it expires', async () => {
    const token = await mint(rs.keys, { aud: `${rs.base}/mcp` }, { expiresInS: 2 });
    const res = await listen(token);
    expect(res.status).toBe(200);
    const { ended } = await readUntil(res, () => false, 6000);
    expect(ended).toBe(true);
  });

  it('needs a token like any other request', async () => {
    const res = await listen(undefined);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: 77, error: { code: -31401 } });
  });
});
