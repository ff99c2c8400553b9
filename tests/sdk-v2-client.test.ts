/**
 * The official v2 SDK client (`@modelcontextprotocol/client`), unmodified and pinned to 2026-07-28, against the
 * RS on the embedded IdP: 401 → RFC 9728 metadata → RFC 8414 → authorization code + PKCE with `resource`
 * (headless sign-in replaces only the browser) → stateless 2026-07-28 requests (no initialize, no session) → a
 * tool beyond the token → 403 insufficient_scope → the SDK's own step-up → the tool result.
 */
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type {
  OAuthClientMetadata, OAuthClientProvider, OAuthDiscoveryState, StoredOAuthClientInformation, StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CLIENT_ID } from '../embedded-idp/src/app.ts';
import { headlessAuthorize } from '@mcp-lab/test-kit/authorization';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { startEmbeddedStack, type EmbeddedStack } from '@mcp-lab/test-kit/stack-embedded';

/**
 * The lab's pre-registered public native client (`mcp-lab-cli`, any loopback port); its "browser" is the headless
 * login at the embedded IdP. Pre-registered rather than DCR because the v2 SDK registers a client with the scope of
 * the first challenge (`notes:read offline_access`), and oidc-provider then refuses that client's step-up to
 * `notes:write` with `invalid_scope` — a registration-time limit the MCP spec does not ask an AS for.
 */
class HeadlessProvider implements OAuthClientProvider {
  readonly redirectUrl: string;
  readonly #client: StoredOAuthClientInformation;
  #discovery: OAuthDiscoveryState | undefined;
  #tokens: StoredOAuthTokens | undefined;
  #verifier: string | undefined;
  /** Every authorization request the SDK built, and the callback of the last one. */
  readonly authorizations: URL[] = [];
  callback: URL | undefined;

  constructor(redirectUrl: string, issuer: string) {
    this.redirectUrl = redirectUrl;
    // Stamped with the AS that knows it (SEP-2352: credentials are bound to their issuer).
    this.#client = { client_id: CLI_CLIENT_ID, issuer } as StoredOAuthClientInformation;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'mcp-lab v2 SDK test',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    } as OAuthClientMetadata;
  }

  clientInformation(): StoredOAuthClientInformation | undefined {
    return this.#client;
  }

  tokens(): StoredOAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.#tokens = tokens;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizations.push(authorizationUrl);
    const result = await headlessAuthorize({ authorizationUrl, username: 'alice', password: 'alice-password', redirectUri: this.redirectUrl });
    this.callback = result.callbackUrl;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#verifier = codeVerifier;
  }

  codeVerifier(): string {
    if (!this.#verifier) throw new Error('no code verifier saved');
    return this.#verifier;
  }
}

interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string | undefined;
}

function recordingFetch(log: Exchange[]): typeof fetch {
  return async function recorded(input, init) {
    const res = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    log.push({
      method: init?.method ?? 'GET',
      url,
      status: res.status,
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : undefined,
    });
    return res;
  };
}

function toolJson(result: unknown): Record<string, unknown> {
  const content = (result as { content: Array<{ type: string; text: string }> }).content;
  return JSON.parse(content[0]!.text) as Record<string, unknown>;
}

let stack: EmbeddedStack;
beforeAll(async () => {
  stack = await startEmbeddedStack();
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

describe('the official v2 SDK client pinned to 2026-07-28', () => {
  it('authorizes, calls tools statelessly, steps up on 403 and gets the tool result', async () => {
    const exchanges: Exchange[] = [];
    const provider = new HeadlessProvider(`http://127.0.0.1:${await freePort()}/callback`, stack.idpIssuer);
    const mcpUrl = new URL(`${stack.rsUrl}/mcp`);
    const transportOptions = { authProvider: provider, fetch: recordingFetch(exchanges) };
    const newClient = () => new Client({ name: 'mcp-lab-v2-sdk-test', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });

    // 1. No token: the SDK discovers, registers, sends the user to sign in, and asks us to finish.
    const first = new StreamableHTTPClientTransport(mcpUrl, transportOptions);
    await expect(newClient().connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.callback, 'the headless login reached the callback').toBeDefined();
    await first.finishAuth(provider.callback!.searchParams);
    expect(provider.authorizations[0]!.searchParams.get('resource')).toBe(`${stack.rsUrl}/mcp`);
    expect(provider.authorizations[0]!.searchParams.get('scope')).toContain('notes:read');

    // 2. With the token: stateless 2026-07-28 requests.
    const transport = new StreamableHTTPClientTransport(mcpUrl, transportOptions);
    const client = newClient();
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(['whoami', 'notes_list', 'notes_add', 'notes_delete']);
      const me = toolJson(await client.callTool({ name: 'whoami', arguments: {} }));
      expect(me).toMatchObject({ permissions: ['notes:read'], aud: expect.arrayContaining([`${stack.rsUrl}/mcp`]) });

      // 3. A tool beyond the token: 403 insufficient_scope → the SDK's step-up → a new authorization.
      await expect(client.callTool({ name: 'notes_add', arguments: { text: 'written by the v2 SDK' } })).rejects.toBeInstanceOf(UnauthorizedError);
      expect(provider.authorizations).toHaveLength(2);
      expect(provider.authorizations[1]!.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
      await transport.finishAuth(provider.callback!.searchParams);
      const note = toolJson(await client.callTool({ name: 'notes_add', arguments: { text: 'written by the v2 SDK' } }));
      expect(note).toMatchObject({ text: 'written by the v2 SDK' });
    } finally {
      await client.close();
    }

    // The wire: never initialize, never a session; every MCP POST names its method (and tool) in headers.
    const mcpPosts = exchanges.filter((e) => e.method === 'POST' && e.url === mcpUrl.href);
    expect(mcpPosts.length).toBeGreaterThan(3);
    for (const post of mcpPosts) {
      const body = JSON.parse(post.body ?? '{}') as { method?: string; params?: { name?: string } };
      expect(body.method).not.toBe('initialize');
      expect(post.headers.get('mcp-session-id')).toBeNull();
      expect(post.headers.get('mcp-protocol-version')).toBe('2026-07-28');
      expect(post.headers.get('mcp-method')).toBe(body.method);
      if (body.method === 'tools/call') expect(post.headers.get('mcp-name')).toBe(body.params?.name);
    }
    const statuses = mcpPosts.map((e) => e.status);
    expect(statuses).toContain(401);
    expect(statuses).toContain(403);
    expect(statuses.at(-1)).toBe(200);
  }, 60_000);
});
