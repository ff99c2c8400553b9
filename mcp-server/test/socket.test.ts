/**
 * Over a real socket: the SDK's own clients open a Streamable HTTP session and an SSE stream with a self-minted
 * token and call the tools; a second user is kept out of the first user's SSE session.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { openSse } from '@mcp-lab/test-kit/sse';
import { ISSUER, mint } from './helpers.ts';
import { useListeningRs } from './use-rs.ts';

const rs = useListeningRs({}, { tokens: (base) => ({ alice: { sub: 'alice', aud: `${base}/mcp` }, bob: { sub: 'bob', aud: `${base}/sse` } }) });

function text(result: unknown): unknown {
  const content = (result as { content: Array<{ type: string; text: string }> }).content;
  return JSON.parse(content[0]!.text);
}

describe('real socket', () => {
  streamableHttpTests();
  httpSseTests();
});

describe('main.ts', () => {
  it('exits 1 and names every bad variable when the config is bad', () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const run = spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', MCP_PORT: 'x', MCP_LOG_LEVEL: 'loud' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('MCP_ISSUER:');
    expect(run.stderr).toContain('MCP_PORT:');
    expect(run.stderr).toContain('MCP_LOG_LEVEL:');
  });
});

/** The SDK's Streamable HTTP client: a session with every tool, and the lean tools/call path it reads. */
function streamableHttpTests(): void {
  it('serves a Streamable HTTP session to the SDK client', async () => {
    const client = new Client({ name: 'rs-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${rs.base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${rs.tokens.alice}` } } });
    await client.connect(transport);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(['notes_add', 'notes_delete', 'notes_list', 'whoami']);
      expect(text(await client.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({ iss: ISSUER, sub: 'alice' });
      const note = text(await client.callTool({ name: 'notes_add', arguments: { text: 'over the wire' } })) as { id: string };
      const list = text(await client.callTool({ name: 'notes_list', arguments: {} })) as Array<{ id: string }>;
      expect(list.map((n) => n.id)).toContain(note.id);
      await transport.terminateSession();
    } finally {
      await client.close();
    }
  });

  it("answers the SDK client's tools/call in its session as JSON (the lean path), which the client reads", async () => {
    const seen: Array<{ method: string; contentType: string | null }> = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { method?: string }) : {};
      seen.push({ method: body.method ?? '', contentType: res.headers.get('content-type') });
      return res;
    };
    const client = new Client({ name: 'rs-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${rs.base}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${rs.tokens.alice}` } },
      fetch: recordingFetch,
    });
    await client.connect(transport);
    try {
      const note = text(await client.callTool({ name: 'notes_add', arguments: { text: 'lean over the wire' } })) as { text: string };
      expect(note.text).toBe('lean over the wire');
      expect(text(await client.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({ sub: 'alice' });
      expect(seen.filter((s) => s.method === 'tools/call').map((s) => s.contentType)).toEqual([
        'application/json; charset=utf-8',
        'application/json; charset=utf-8',
      ]);
      expect(seen.find((s) => s.method === 'initialize')?.contentType).toBe('text/event-stream');
      await transport.terminateSession();
    } finally {
      await client.close();
    }
  });
}

/** The SDK's HTTP+SSE client, and another user kept out of an SSE session. */
function httpSseTests(): void {
  it('serves an HTTP+SSE session to the SDK client', async () => {
    const client = new Client({ name: 'rs-test', version: '1' });
    const transport = new SSEClientTransport(new URL(`${rs.base}/sse`), { requestInit: { headers: { authorization: `Bearer ${rs.tokens.bob}` } } });
    await client.connect(transport);
    try {
      expect(text(await client.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({ sub: 'bob', aud: [`${rs.base}/sse`] });
      const note = text(await client.callTool({ name: 'notes_add', arguments: { text: 'bob via sse' } })) as { id: string; text: string };
      expect(note.text).toBe('bob via sse');
      const list = text(await client.callTool({ name: 'notes_list', arguments: {} })) as Array<{ text: string }>;
      expect(list.map((n) => n.text)).toEqual(['bob via sse']);
    } finally {
      await client.close();
    }
  });

  it("refuses user B's token on user A's SSE session", async () => {
    const sse = await openSse(`${rs.base}/sse`, { authorization: `Bearer ${rs.tokens.alice}` });
    try {
      const url = sse.endpoint;
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } });
      const asBob = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${rs.tokens.bob}`, 'content-type': 'application/json' }, body });
      expect(asBob.status).toBe(403);
      // Another user's session is no scope problem: no Bearer challenge, nothing to re-authorize for.
      expect(asBob.headers.get('www-authenticate')).toBeNull();
      expect(await asBob.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -31403, data: { error: 'session_forbidden', error_description: 'this session belongs to a different user' } } });
      const anonymous = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(anonymous.status).toBe(401);
      const asAlice = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${rs.tokens.alice}`, 'content-type': 'application/json' }, body });
      expect(asAlice.status).toBe(202);
    } finally {
      sse.close();
    }
  });
}
