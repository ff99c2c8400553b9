/**
 * HTTP limits: body size (413) and JSON depth (400) answered with JSON-RPC errors on the MCP endpoints, and the
 * Node timeouts that cut slow bodies, slow headers and idle keep-alive connections (real sockets).
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { jsonDeeperThan } from '../src/http/json-body.ts';
import { INIT_BODY, MCP_HEADERS, mint, openEventStream, openSession, toolCall } from './helpers.ts';
import type { ListeningRs } from './helpers.ts';
import { useListeningRs, useTestRs } from './use-rs.ts';

const rs = useTestRs({ MCP_BODY_LIMIT_BYTES: '2048', MCP_JSON_MAX_DEPTH: '8' }, { tokens: { alice: {} } });

const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
  rs.app.inject({ method: 'POST', url, headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}`, ...headers }, payload });

function nested(depth: number): string {
  return `${'['.repeat(depth - 1)}{"jsonrpc":"2.0"}${']'.repeat(depth - 1)}`;
}

describe('request bodies on the MCP endpoint', () => {
  it('answers a body over MCP_BODY_LIMIT_BYTES with 413 and a JSON-RPC error', async () => {
    const body = JSON.stringify(toolCall('notes_add', { text: 'x'.repeat(3000) }));
    const res = await post('/mcp', body);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'Request body is too large', data: { reason: 'body_too_large' } },
    });
  });

  it('answers malformed JSON with 400 and a JSON-RPC parse error (-32700)', async () => {
    const res = await post('/mcp', '{"jsonrpc": "2.0", ');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error: the body is not valid JSON', data: { reason: 'parse_error' } },
    });
  });

  it('answers JSON nested deeper than MCP_JSON_MAX_DEPTH with 400 and a JSON-RPC error', async () => {
    const res = await post('/mcp', nested(9));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'the JSON body is nested deeper than 8 levels', data: { reason: 'invalid_request' } },
    });
  });

  it('refuses a deep body on /messages (HTTP+SSE) the same way', async () => {
    const res = await post('/messages?sessionId=x', nested(9));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } });
  });

  it('accepts a body nested exactly MCP_JSON_MAX_DEPTH deep (then judged as JSON-RPC)', async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const deep = toolCall('notes_add', { text: 'ok' });
    // toolCall is 3 levels; wrap it in a batch of batches up to 8 — refused as JSON-RPC (400), not for its depth.
    const res = await post('/mcp', nested(8), { 'mcp-session-id': sid });
    expect(res.statusCode).toBe(400);
    expect(res.json()).not.toMatchObject({ error: { message: expect.stringContaining('nested deeper') } });
    expect((await post('/mcp', JSON.stringify(deep), { 'mcp-session-id': sid })).statusCode).toBe(200);
  });

  it('keeps the OAuth-style error body for a body refused on a non-MCP route', async () => {
    const res = await rs.app.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json', authorization: `Bearer ${rs.tokens.alice}` }, payload: nested(9) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'the JSON body is nested deeper than 8 levels' });
  });

  it('counts only brackets outside strings, escapes included', () => {
    expect(jsonDeeperThan('{"a":"[[[[[[[[[[\\"[[[[["}', 2)).toBe(false);
    expect(jsonDeeperThan('[[["\\\\"]]]', 3)).toBe(false);
    expect(jsonDeeperThan('[[["\\\\"]]]', 2)).toBe(true);
  });
});

/**
 * Writes `chunks` to a raw connection to `rs` and collects what the server sends until the server closes it; fails
 * if it is still open after 5 s (a deadline for the test, not a measurement: how long the close took is not asserted).
 */
function exchange(served: Pick<ListeningRs, 'base'>, chunks: string[]): Promise<string> {
  const url = new URL(served.base);
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(Number(url.port), url.hostname, () => {
      for (const c of chunks) socket.write(c);
    });
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server held the connection for 5 s; got ${JSON.stringify(data)}`));
    }, 5_000);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(data);
    });
  });
}

/** The `Host` header value for `served`. */
function hostOf(served: Pick<ListeningRs, 'base'>): string {
  return new URL(served.base).host;
}

describe('timeouts on a real socket', () => {
  const served = useListeningRs({ MCP_REQUEST_TIMEOUT_MS: '600', MCP_HEADERS_TIMEOUT_MS: '400', MCP_KEEP_ALIVE_TIMEOUT_MS: '300' });

  it('hands the three timeouts to the Node server that enforces them', () => {
    const server = served.app.server;
    expect({ requestTimeout: server.requestTimeout, headersTimeout: server.headersTimeout, keepAliveTimeout: server.keepAliveTimeout }).toEqual({
      requestTimeout: 600,
      headersTimeout: 400,
      keepAliveTimeout: 300,
    });
  });

  it('cuts a body that arrives too slowly with 408 after MCP_REQUEST_TIMEOUT_MS (with a valid token)', async () => {
    const token = await mint(served.keys, { aud: `${served.base}/mcp` });
    const body = JSON.stringify(INIT_BODY);
    const head =
      `POST /mcp HTTP/1.1\r\nHost: ${hostOf(served)}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
      `Accept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n`;
    // The headers are complete, so only the whole-request timeout can cut it; the server closes the connection.
    const data = await exchange(served, [head, body.slice(0, 10)]);
    expect(data).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a slow body without a token too (never held forever)', async () => {
    const head = `POST /mcp HTTP/1.1\r\nHost: ${hostOf(served)}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const data = await exchange(served, [head, '{"jsonrpc"']);
    expect(data).toMatch(/^HTTP\/1\.1 (401|408) /);
  });

  it('cuts headers that arrive too slowly with 408 after MCP_HEADERS_TIMEOUT_MS', async () => {
    const data = await exchange(served, [`GET /.well-known/oauth-protected-resource HTTP/1.1\r\nHost: ${hostOf(served)}\r\n`]);
    expect(data).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('keeps an SSE stream open past the request, headers and keep-alive timeouts (they bound requests, not streams)', async () => {
    const token = await mint(served.keys, { aud: `${served.base}/sse` });
    const stream = await openEventStream(`${served.base}/sse`, { authorization: `Bearer ${token}` });
    try {
      const endpoint = new URL((await stream.next()).data, served.base);
      await sleep(1_500);
      const res = await fetch(endpoint, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(toolCall('whoami')) });
      expect(res.status).toBe(202);
      expect((await stream.next()).event).toBe('message');
    } finally {
      stream.close();
    }
  });

  it('closes an idle keep-alive connection after MCP_KEEP_ALIVE_TIMEOUT_MS', async () => {
    // Two requests on one connection: it is kept alive after the first answer, and the server ends it once idle.
    const get = `GET /.well-known/oauth-protected-resource HTTP/1.1\r\nHost: ${hostOf(served)}\r\n\r\n`;
    const data = await exchange(served, [get + get]);
    expect(data.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    expect(data.match(/^keep-alive: timeout=\d+/gim)).toHaveLength(2);
    expect(data).not.toMatch(/^connection: close/im);
  });
});
