/**
 * The official SDK clients, unmodified, from the host through the compose stack's proxy: each completes the OAuth
 * flow itself (401 → RFC 9728 metadata through the proxy → RFC 8414 → DCR → code + PKCE with `resource`; the
 * headless login at the compose IdP replaces only the browser) and calls tools. Which replica answered is read from
 * the replicas' logs: a v1 2025 session stays on its replica and new ones are spread; the v2 client's 2026-07-28
 * requests go round-robin; the v1 legacy SSE client's POSTs land on every replica and reach its stream over Redis.
 */
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as SseV1 } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as StreamableV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError as UnauthorizedV1, type OAuthClientProvider as ProviderV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client as ClientV2, StreamableHTTPClientTransport as StreamableV2, UnauthorizedError as UnauthorizedV2 } from '@modelcontextprotocol/client';
import type { OAuthClientProvider as ProviderV2 } from '@modelcontextprotocol/client';
import { expect, it } from 'vitest';
import { recordingFetch, type Exchange } from '@mcp-lab/test-kit/recording-fetch';
import { ALICE, toolJson } from '@mcp-lab/test-kit/rs-session';
import type { HeadlessOAuthProvider } from '@mcp-lab/test-kit/sdk-oauth-provider';
import { onlyReplica, REPLICAS, sdkProvider, served, servedSince, type ComposeLab } from './scale-compose-lab.ts';

const newV1 = () => new ClientV1({ name: 'mcp-lab-scale-compose-v1', version: '1' });

/** The v1 SDK's documented first run: connect → UnauthorizedError after the redirect → finishAuth(code). */
async function authorizeV1(transport: StreamableV1 | SseV1, provider: HeadlessOAuthProvider): Promise<void> {
  await expect(newV1().connect(transport)).rejects.toBeInstanceOf(UnauthorizedV1);
  await transport.finishAuth(provider.takeCallback().get('code') ?? '');
}

async function whoamiSub(client: { callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<unknown> }): Promise<string> {
  return toolJson<{ sub: string }>(await client.callTool({ name: 'whoami', arguments: {} })).sub;
}

/** The three official-client tests; `lab` is filled in by the suite's beforeAll. */
export function sdkClientTests(lab: ComposeLab): void {
  v1StreamableTest(lab);
  v2StatelessTest(lab);
  v1LegacySseTest(lab);
}

/** 2025 Streamable HTTP: a session stays on the replica that opened it; new sessions are spread. */
function v1StreamableTest(lab: ComposeLab): void {
  it('the v1 SDK client (2025, Streamable HTTP) authorizes through the proxy, stays on its replica, and new sessions spread', async () => {
    const provider = await sdkProvider(ALICE);
    const url = new URL(`${lab.rsUrl}/mcp`);
    const options = { authProvider: provider as unknown as ProviderV1 };
    await authorizeV1(new StreamableV1(url, options), provider);
    // RFC 8707: the token is asked for the one logical resource server behind the proxy.
    expect([lab.rsUrl, url.href]).toContain(provider.authorizations[0]!.searchParams.get('resource'));

    // Three sessions one after another; each initialize goes round-robin, everything after it by affinity.
    const holders: string[] = [];
    for (const calls of [6, 1, 1]) {
      const before = await served(lab, 'POST', '/mcp');
      const client = newV1();
      await client.connect(new StreamableV1(url, options));
      try {
        for (let i = 0; i < calls; i++) expect(await whoamiSub(client)).toBe(ALICE.sub);
      } finally {
        await client.close();
      }
      // initialize, notifications/initialized and the calls: all on the replica that opened the session.
      holders.push(onlyReplica(await servedSince(lab, before, 'POST', '/mcp', 2 + calls)));
    }
    expect(new Set(holders).size, `sessions held by ${holders.join(', ')}`).toBe(REPLICAS.length);
  });
}

/** 2026-07-28: no session, every request round-robin. */
function v2StatelessTest(lab: ComposeLab): void {
  it('the v2 SDK client pinned to 2026-07-28 authorizes through the proxy and its stateless requests go round-robin', async () => {
    const provider = await sdkProvider(ALICE);
    const exchanges: Exchange[] = [];
    const url = new URL(`${lab.rsUrl}/mcp`);
    const options = { authProvider: provider as unknown as ProviderV2, fetch: recordingFetch(exchanges) };
    const newClient = () => new ClientV2({ name: 'mcp-lab-scale-compose-v2', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    const first = new StreamableV2(url, options);
    await expect(newClient().connect(first)).rejects.toBeInstanceOf(UnauthorizedV2);
    await first.finishAuth(provider.takeCallback());

    const before = await served(lab, 'POST', '/mcp');
    const sentBefore = exchanges.length;
    const client = newClient();
    await client.connect(new StreamableV2(url, options));
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('notes_list');
      for (let i = 0; i < 3; i++) expect(await whoamiSub(client)).toBe(ALICE.sub);
      expect(Array.isArray(toolJson(await client.callTool({ name: 'notes_list', arguments: {} })))).toBe(true);
    } finally {
      await client.close();
    }
    const posts = exchanges.slice(sentBefore).filter((e) => e.method === 'POST' && e.url === url.href);
    for (const post of posts) {
      expect(post.status).toBe(200);
      expect(post.requestHeaders.get('mcp-session-id')).toBeNull();
      expect(post.requestHeaders.get('mcp-protocol-version')).toBe('2026-07-28');
      expect((JSON.parse(post.requestBody ?? '{}') as { method?: string }).method).not.toBe('initialize');
    }
    const delta = await servedSince(lab, before, 'POST', '/mcp', posts.length);
    expect(delta.every((n) => n > 0), `POST /mcp per replica: ${delta.join(', ')}`).toBe(true);
  });
}

/** Legacy HTTP+SSE: the stream stays on one replica, its POSTs go round-robin and are relayed over Redis. */
function v1LegacySseTest(lab: ComposeLab): void {
  it('the v1 SDK client over legacy HTTP+SSE authorizes through the proxy and works while its POSTs land on other replicas', async () => {
    const provider = await sdkProvider(ALICE);
    const url = new URL(`${lab.rsUrl}/sse`);
    const options = { authProvider: provider as unknown as ProviderV1 };
    await authorizeV1(new SseV1(url, options), provider);

    const [streams, posts] = [await served(lab, 'GET', '/sse'), await served(lab, 'POST', '/messages')];
    const client = newV1();
    await client.connect(new SseV1(url, options));
    try {
      for (let i = 0; i < 6; i++) expect(await whoamiSub(client)).toBe(ALICE.sub);
    } finally {
      await client.close();
    }
    const holder = onlyReplica(await servedSince(lab, streams, 'GET', '/sse', 1));
    // initialize, notifications/initialized and six calls, round-robin: the two replicas without the stream got
    // some of them and relayed them to the holder.
    const delta = await servedSince(lab, posts, 'POST', '/messages', 8);
    expect(delta.every((n) => n > 0), `POST /messages per replica: ${delta.join(', ')} (stream on ${holder})`).toBe(true);
  });
}
