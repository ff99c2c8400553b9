/**
 * The official MCP TypeScript SDK client, unmodified, completes MCP authorization against the Dex lab:
 * 401 challenge → RFC 9728 metadata → AS metadata (RFC 8414 from authz-metadata, or Dex's OpenID discovery when
 * authz-metadata serves none) → authorization code + PKCE with the pre-registered public client (Dex has no DCR)
 * → token → MCP calls. Only the user agent is replaced, by the headless Dex login.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { browserLogin } from '@mcp-lab/test-kit/login';
import { requireDex } from './provisioned.ts';
import { DEX_RS_SCOPES, startDexLab, type DexLab } from '@mcp-lab/test-kit/stack-dex';

const dexBin = requireDex() ?? '';
const dexReady = dexBin !== '';

/**
 * An OAuthClientProvider for a native client with a pre-registered client id: no saveClientInformation, so the
 * SDK never tries dynamic registration; the "browser" is the headless Dex password login.
 */
class DexHeadlessProvider implements OAuthClientProvider {
  readonly redirectUrl: string;
  readonly #login: string;
  readonly #password: string;
  #tokens: OAuthTokens | undefined;
  #verifier: string | undefined;
  #state: string | undefined;
  /** The authorization URL the SDK built, and the code Dex returned for it. */
  authorizationUrl: URL | undefined;
  code: string | undefined;

  constructor(redirectUrl: string, login: string, password: string) {
    this.redirectUrl = redirectUrl;
    this.#login = login;
    this.#password = password;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'mcp-lab SDK test',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }

  clientInformation(): OAuthClientInformationMixed {
    return { client_id: 'mcp-lab-cli' };
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizationUrl = authorizationUrl;
    const outcome = await browserLogin({
      authorizationUrl,
      redirectUri: this.redirectUrl,
      username: this.#login,
      password: this.#password,
      driver: 'dex',
    });
    if (outcome.kind !== 'redirect') throw new Error(`Dex refused the login (HTTP ${outcome.status})`);
    const params = outcome.location.searchParams;
    if (params.has('error')) throw new Error(`Dex answered ${params.get('error')}: ${params.get('error_description')}`);
    if (params.get('state') !== this.#state) throw new Error('state mismatch in the authorization response');
    this.code = params.get('code') ?? undefined;
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
}

/** A fetch that records every exchange (the transport uses it for MCP, metadata and token requests alike). */
function recordingFetch(log: Exchange[]): typeof fetch {
  return async function recorded(input, init) {
    const res = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    log.push({ method: init?.method ?? (input instanceof Request ? input.method : 'GET'), url, status: res.status });
    return res;
  };
}

function toolJson(result: unknown): unknown {
  const content = (result as { content: Array<{ type: string; text: string }> }).content;
  return JSON.parse(content[0]!.text);
}

interface FlowResult {
  readonly provider: DexHeadlessProvider;
  readonly exchanges: readonly Exchange[];
  readonly toolNames: readonly string[];
  readonly whoami: Record<string, unknown>;
  readonly note: { id: string; text: string };
}

/** The SDK's documented flow: connect → UnauthorizedError after the redirect → finishAuth(code) → connect again. */
async function runSdkFlow(lab: DexLab): Promise<FlowResult> {
  const exchanges: Exchange[] = [];
  const provider = new DexHeadlessProvider(`http://127.0.0.1:${await freePort()}/callback`, 'alice@example.com', 'alice-password');
  const mcpUrl = new URL(`${lab.rsUrl}/mcp`);
  const transportOptions = { authProvider: provider, fetch: recordingFetch(exchanges) };

  const first = new StreamableHTTPClientTransport(mcpUrl, transportOptions);
  await expect(new Client({ name: 'dex-sdk-test', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  expect(provider.code, 'the headless login produced a code').toBeTypeOf('string');
  await first.finishAuth(provider.code!);

  const client = new Client({ name: 'dex-sdk-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(mcpUrl, transportOptions);
  await client.connect(transport);
  try {
    const toolNames = (await client.listTools()).tools.map((t) => t.name).sort();
    const whoami = toolJson(await client.callTool({ name: 'whoami', arguments: {} })) as Record<string, unknown>;
    const note = toolJson(await client.callTool({ name: 'notes_add', arguments: { text: 'written by the SDK client' } })) as {
      id: string;
      text: string;
    };
    await transport.terminateSession();
    return { provider, exchanges, toolNames, whoami, note };
  } finally {
    await client.close();
  }
}

/** The exchanges for well-known documents on the AS's public origin, as "status path". */
function asDiscovery(lab: DexLab, exchanges: readonly Exchange[]): string[] {
  return exchanges
    .filter((e) => e.url.startsWith(lab.publicOrigin) && e.url.includes('/.well-known/'))
    .map((e) => `${e.status} ${new URL(e.url).pathname}`);
}

function expectAuthorizationRequest(provider: DexHeadlessProvider, lab: DexLab): void {
  const sent = provider.authorizationUrl!;
  expect(sent.href.startsWith(`${lab.issuer}/auth?`)).toBe(true);
  expect(sent.searchParams.get('client_id')).toBe('mcp-lab-cli');
  // The challenge's scope, forwarded as is: exactly what Dex needs to put mcp-lab-rs into aud.
  expect(sent.searchParams.get('scope')).toBe(DEX_RS_SCOPES.join(' '));
  expect(sent.searchParams.get('code_challenge_method')).toBe('S256');
  // The SDK adds prompt=consent whenever offline_access is requested. Dex v2.45 ignores it (skipApprovalScreen wins);
  // Dex after v2.45 forces its approval screen for it, which the headless login does not click through.
  expect(sent.searchParams.get('prompt')).toBe('consent');
  // RFC 8707: sent, and ignored by Dex.
  expect(sent.searchParams.get('resource')).toBe(`${lab.rsUrl}/mcp`);
}

describe.runIf(dexReady)('the official MCP SDK client against the Dex lab', () => {
  describe('with the RFC 8414 document served by authz-metadata', () => {
    let lab: DexLab;
    beforeAll(async () => {
      lab = await startDexLab({ dexBin });
    });
    afterAll(async () => {
      await lab?.stop();
    });

    it('authorizes with the pre-registered client, discovering Dex through /.well-known/oauth-authorization-server/dex, and calls tools', async () => {
      const { provider, exchanges, toolNames, whoami, note } = await runSdkFlow(lab);

      expect(toolNames).toEqual(['notes_add', 'notes_delete', 'notes_list', 'whoami']);
      expect(whoami).toMatchObject({ iss: lab.issuer, email: 'alice@example.com', aud: ['mcp-lab-rs', 'mcp-lab-cli'] });
      expect(note.text).toBe('written by the SDK client');
      expectAuthorizationRequest(provider, lab);

      // The RS was asked first and named its path-suffixed metadata document.
      expect(exchanges[0]).toMatchObject({ method: 'POST', url: `${lab.rsUrl}/mcp`, status: 401 });
      expect(exchanges).toContainEqual({ method: 'GET', url: `${lab.rsUrl}/.well-known/oauth-protected-resource/mcp`, status: 200 });
      // Once for connect, once for finishAuth (the provider keeps no discovery state): RFC 8414 each time, nothing else.
      expect(asDiscovery(lab, exchanges)).toEqual([
        '200 /.well-known/oauth-authorization-server/dex',
        '200 /.well-known/oauth-authorization-server/dex',
      ]);
      expect(exchanges).toContainEqual({ method: 'POST', url: `${lab.issuer}/token`, status: 200 });
      // No registration attempt anywhere.
      expect(exchanges.filter((e) => /regist/.test(e.url))).toEqual([]);
    });
  });

  describe('with authz-metadata as a pure proxy (no RFC 8414 document)', () => {
    let lab: DexLab;
    beforeAll(async () => {
      lab = await startDexLab({ dexBin, metadataEnabled: false });
    });
    afterAll(async () => {
      await lab?.stop();
    });

    it("falls back to Dex's OpenID Connect discovery and still completes the flow", async () => {
      const { provider, exchanges, whoami, note } = await runSdkFlow(lab);

      expect(whoami).toMatchObject({ iss: lab.issuer, email: 'alice@example.com' });
      expect(note.text).toBe('written by the SDK client');
      expectAuthorizationRequest(provider, lab);
      const once = [
        '404 /.well-known/oauth-authorization-server/dex',
        '404 /.well-known/openid-configuration/dex',
        '200 /dex/.well-known/openid-configuration',
      ];
      expect(asDiscovery(lab, exchanges)).toEqual([...once, ...once]);
    });
  });
});
