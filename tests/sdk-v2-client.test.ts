/**
 * The official v2 SDK client (`@modelcontextprotocol/client`), unmodified and pinned to 2026-07-28, against the
 * RS on the embedded IdP: 401 → RFC 9728 metadata → RFC 8414 → authorization code + PKCE with `resource`
 * (headless sign-in replaces only the browser) → stateless 2026-07-28 requests (no initialize, no session) → a
 * tool beyond the token → 403 insufficient_scope → the SDK's own step-up → the tool result.
 */
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type { OAuthClientProvider } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { CLI_CLIENT_ID } from '../embedded-idp/src/app.ts';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { recordingFetch, type Exchange } from '@mcp-lab/test-kit/recording-fetch';
import { toolJson } from '@mcp-lab/test-kit/rs-session';
import { HeadlessOAuthProvider } from '@mcp-lab/test-kit/sdk-oauth-provider';
import { useEmbeddedStack } from '@mcp-lab/test-kit/stack-embedded';

/**
 * The lab's pre-registered public native client (`mcp-lab-cli`, any loopback port); its "browser" is the headless
 * login at the embedded IdP. Pre-registered rather than DCR because the v2 SDK registers a client with the scope of
 * the first challenge (`notes:read offline_access`), and oidc-provider then refuses that client's step-up to
 * `notes:write` with `invalid_scope` — a registration-time limit the MCP spec does not ask an AS for.
 */
function cliClientProvider(redirectUrl: string, issuer: string): HeadlessOAuthProvider {
  return new HeadlessOAuthProvider({
    redirectUrl,
    username: 'alice',
    password: 'alice-password',
    clientId: CLI_CLIENT_ID,
    clientIssuer: issuer,
    clientMetadata: { client_name: 'mcp-lab v2 SDK test', application_type: 'native' },
  });
}

const embedded = useEmbeddedStack();

describe('the official v2 SDK client pinned to 2026-07-28', () => {
  it('authorizes, calls tools statelessly, steps up on 403 and gets the tool result', async () => {
    const stack = embedded();
    const exchanges: Exchange[] = [];
    const provider = cliClientProvider(`http://127.0.0.1:${await freePort()}/callback`, stack.idpIssuer);
    const mcpUrl = new URL(`${stack.rsUrl}/mcp`);
    const transportOptions = { authProvider: provider as unknown as OAuthClientProvider, fetch: recordingFetch(exchanges) };
    const newClient = () => new Client({ name: 'mcp-lab-v2-sdk-test', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });

    // 1. No token: the SDK discovers, registers, sends the user to sign in, and asks us to finish.
    const first = new StreamableHTTPClientTransport(mcpUrl, transportOptions);
    await expect(newClient().connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    // takeCallback throws unless the headless login reached the callback with our state and no error.
    await first.finishAuth(provider.takeCallback());
    expect(provider.authorizations[0]!.searchParams.get('resource')).toBe(`${stack.rsUrl}/mcp`);
    expect(provider.authorizations[0]!.searchParams.get('scope')).toContain('notes:read');

    // 2. With the token: stateless 2026-07-28 requests.
    const transport = new StreamableHTTPClientTransport(mcpUrl, transportOptions);
    const client = newClient();
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(['whoami', 'notes_list', 'notes_add', 'notes_delete']);
      const me = toolJson<Record<string, unknown>>(await client.callTool({ name: 'whoami', arguments: {} }));
      expect(me).toMatchObject({ permissions: ['notes:read'], aud: expect.arrayContaining([`${stack.rsUrl}/mcp`]) });

      // 3. A tool beyond the token: 403 insufficient_scope → the SDK's step-up → a new authorization.
      await expect(client.callTool({ name: 'notes_add', arguments: { text: 'written by the v2 SDK' } })).rejects.toBeInstanceOf(UnauthorizedError);
      expect(provider.authorizations).toHaveLength(2);
      expect(provider.authorizations[1]!.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
      await transport.finishAuth(provider.takeCallback());
      const note = toolJson<Record<string, unknown>>(await client.callTool({ name: 'notes_add', arguments: { text: 'written by the v2 SDK' } }));
      expect(note).toMatchObject({ text: 'written by the v2 SDK' });
    } finally {
      await client.close();
    }

    // The wire: never initialize, never a session; every MCP POST names its method (and tool) in headers.
    const mcpPosts = exchanges.filter((e) => e.method === 'POST' && e.url === mcpUrl.href);
    expect(mcpPosts.length).toBeGreaterThan(3);
    for (const post of mcpPosts) {
      const body = JSON.parse(post.requestBody ?? '{}') as { method?: string; params?: { name?: string } };
      expect(body.method).not.toBe('initialize');
      expect(post.requestHeaders.get('mcp-session-id')).toBeNull();
      expect(post.requestHeaders.get('mcp-protocol-version')).toBe('2026-07-28');
      expect(post.requestHeaders.get('mcp-method')).toBe(body.method);
      if (body.method === 'tools/call') expect(post.requestHeaders.get('mcp-name')).toBe(body.params?.name);
    }
    const statuses = mcpPosts.map((e) => e.status);
    expect(statuses).toContain(401);
    expect(statuses).toContain(403);
    expect(statuses.at(-1)).toBe(200);
  }, 60_000);
});
