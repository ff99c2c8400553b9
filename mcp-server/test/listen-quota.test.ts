/**
 * The per-user cap on 2026-07-28 `subscriptions/listen` streams (MCP_LISTEN_STREAMS_MAX_PER_SUBJECT): one user
 * holding their maximum is refused the next stream with a 429 JSON-RPC error, another user is not, and a place is
 * given back when a stream ends. Real sockets: a listen stream is a long-lived response.
 */
import { describe, expect, it } from 'vitest';
import { createListenQuota } from '../src/mcp/listen-quota.ts';
import { JsonRpcHttpError } from '../src/mcp/jsonrpc-error.ts';
import { mint, modernRequest } from './helpers.ts';
import { useListeningRs } from './use-rs.ts';

const rs = useListeningRs({ MCP_LISTEN_STREAMS_MAX_PER_SUBJECT: '2', MCP_LISTEN_KEEPALIVE_MS: '0' });

/** Opens a listen stream; resolves once the response head arrived (the ack follows on the stream). */
function listen(token: string, signal: AbortSignal): Promise<Response> {
  const req = modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } }, 9);
  return fetch(`${rs.base}/mcp`, {
    method: 'POST',
    headers: { ...req.headers, authorization: `Bearer ${token}` },
    body: JSON.stringify(req.payload),
    signal,
  });
}

describe('subscriptions/listen streams per user', () => {
  it('refuses a user their third stream with 429 too_many_streams, serves another user, and gives the place back', async () => {
    const alice = await mint(rs.keys, { aud: `${rs.base}/mcp` });
    const bob = await mint(rs.keys, { aud: `${rs.base}/mcp`, sub: 'bob' });
    const held = [new AbortController(), new AbortController()];
    const others = new AbortController();
    try {
      for (const c of held) expect((await listen(alice, c.signal)).status).toBe(200);

      const refused = await listen(alice, new AbortController().signal);
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({
        jsonrpc: '2.0',
        error: { code: -32000, message: expect.stringContaining('at most 2 per user'), data: { reason: 'too_many_streams' } },
      });

      expect((await listen(bob, others.signal)).status).toBe(200);

      // Alice closes one stream: once the RS has seen the socket go, her next listen is served again.
      held[0]!.abort();
      let again: Response | undefined;
      for (let attempt = 0; attempt < 100; attempt++) {
        const c = new AbortController();
        const res = await listen(alice, c.signal);
        if (res.status === 200) {
          again = res;
          held[0] = c;
          break;
        }
        expect(res.status).toBe(429);
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(again?.status).toBe(200);
    } finally {
      for (const c of [...held, others]) c.abort();
    }
  });
});

describe('createListenQuota', () => {
  it('counts per subject (iss and sub), refuses at the maximum, and releases once however often it is called', () => {
    const quota = createListenQuota(1);
    const alice = { iss: 'https://idp.example', sub: 'alice' };
    const release = quota.acquire(alice);
    expect(() => quota.acquire(alice)).toThrow(JsonRpcHttpError);
    expect(() => quota.acquire(alice)).toThrow(/at most 1 per user/);
    // Same sub at another issuer is another subject.
    const elsewhere = quota.acquire({ iss: 'https://other.example', sub: 'alice' });
    release();
    release();
    expect(quota.heldBy(alice)).toBe(0);
    const again = quota.acquire(alice);
    expect(quota.heldBy(alice)).toBe(1);
    again();
    elsewhere();
  });
});
