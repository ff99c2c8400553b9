/**
 * HTTP+SSE sessions over a real socket: the stream opens before any MCP server exists, the server is connected
 * once on the first message, and a plain tools/call is answered on the stream exactly as the SDK transport would.
 */
import { describe, expect, it } from 'vitest';
import { openSse, type SseStream } from '@mcp-lab/test-kit/sse';
import { INIT_BODY, mint, toolCall } from './helpers.ts';
import { useListeningRs } from './use-rs.ts';

const rs = useListeningRs({}, {
  tokens: (base) => ({ alice: { sub: 'alice', aud: `${base}/sse` }, reader: { sub: 'reader', aud: `${base}/sse`, scope: 'notes:read' } }),
});

function openRawSse(token: string): Promise<SseStream> {
  return openSse(`${rs.base}/sse`, { authorization: `Bearer ${token}` });
}

/** The `data` of the stream's next event, which must be a `message`. */
async function nextMessage(sse: SseStream): Promise<string> {
  const e = await sse.next();
  expect(e.event).toBe('message');
  return e.data;
}

function postMessage(sse: SseStream, token: string, body: unknown) {
  return fetch(sse.endpoint, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('HTTP+SSE sessions', () => {
  streamTests();
  leanCallTests();
});

/** The stream's headers, and a refused batch that leaves the stream usable. */
function streamTests(): void {
  it('opens the stream with the event-stream headers and, for an allowed browser origin, the CORS ones', async () => {
    const controller = new AbortController();
    try {
      const res = await fetch(`${rs.base}/sse`, {
        headers: { authorization: `Bearer ${rs.tokens.alice}`, accept: 'text/event-stream', origin: rs.base },
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
      expect(res.headers.get('access-control-allow-origin')).toBe(rs.base);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-expose-headers')).toBe('mcp-session-id, www-authenticate');
      expect(res.headers.get('vary')).toBe('Origin');
      const first = await res.body!.pipeThrough(new TextDecoderStream()).getReader().read();
      expect(first.value).toMatch(/^event: endpoint\ndata: \/messages\?sessionId=[0-9a-f-]{36}\n\n/);
    } finally {
      controller.abort();
    }
  });

  it('refuses a JSON-RPC batch on /messages with 400 invalid_request and keeps the stream usable', async () => {
    const sse = await openRawSse(rs.tokens.alice);
    try {
      const batch = await postMessage(sse, rs.tokens.alice, [toolCall('whoami', {}, 1), toolCall('notes_list', {}, 2)]);
      expect(batch.status).toBe(400);
      // A JSON-RPC error (a batch has no single id); the OAuth-style code travels in data.
      expect(await batch.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32600, data: { error: 'invalid_request' } } });
      const ok = await postMessage(sse, rs.tokens.alice, toolCall('whoami', {}, 3));
      expect(ok.status).toBe(202);
      expect(JSON.parse(await nextMessage(sse)).id).toBe(3);
    } finally {
      sse.close();
    }
  });
}

/** The lean tools/call path: the SDK transport's answer, the permission check, concurrent first messages. */
function leanCallTests(): void {
  it('answers a tools/call on the stream with the same event and 202 as the SDK transport', async () => {
    const sse = await openRawSse(rs.tokens.alice);
    try {
      const lean = await postMessage(sse, rs.tokens.alice, toolCall('whoami', {}, 7));
      expect(lean.status).toBe(202);
      expect(await lean.text()).toBe('Accepted');
      const leanEvent = await nextMessage(sse);
      // `_meta` sends the same call through the SDK transport and McpServer.
      const sdk = await postMessage(sse, rs.tokens.alice, { ...toolCall('whoami', {}, 7), params: { name: 'whoami', arguments: {}, _meta: {} } });
      expect(sdk.status).toBe(202);
      expect(await sdk.text()).toBe('Accepted');
      expect(leanEvent).toBe(await nextMessage(sse));
      expect(JSON.parse(leanEvent).result.content[0].text).toContain('"sub":"alice"');
    } finally {
      sse.close();
    }
  });

  it('still refuses a tool the token lacks the permission for, with nothing sent on the stream', async () => {
    const sse = await openRawSse(rs.tokens.reader);
    try {
      const res = await postMessage(sse, rs.tokens.reader, toolCall('notes_add', { text: 'x' }));
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toContain('scope="notes:write"');
      const ok = await postMessage(sse, rs.tokens.reader, toolCall('notes_list', {}, 3));
      expect(ok.status).toBe(202);
      expect(JSON.parse(await nextMessage(sse)).id).toBe(3);
    } finally {
      sse.close();
    }
  });

  it('answers concurrent first messages (initialize, tools/list) on a stream opened without a server', async () => {
    const sse = await openRawSse(rs.tokens.alice);
    try {
      const [a, b] = await Promise.all([
        postMessage(sse, rs.tokens.alice, INIT_BODY),
        postMessage(sse, rs.tokens.alice, { jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      ]);
      expect([a.status, b.status]).toEqual([202, 202]);
      const answers = [JSON.parse(await nextMessage(sse)), JSON.parse(await nextMessage(sse))];
      const byId = new Map(answers.map((m) => [m.id, m]));
      expect(byId.get(1)?.result?.serverInfo?.name).toBe('mcp-lab-notes');
      expect(byId.get(2)?.result?.tools?.map((t: { name: string }) => t.name)).toEqual(['whoami', 'notes_list', 'notes_add', 'notes_delete']);
    } finally {
      sse.close();
    }
  });
}
