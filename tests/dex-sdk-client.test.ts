/**
 * The official MCP TypeScript SDK client, unmodified, completes MCP authorization against the Dex lab:
 * 401 challenge → RFC 9728 metadata → AS metadata (RFC 8414 from authz-metadata, or Dex's OpenID discovery when
 * authz-metadata serves none) → authorization code + PKCE with the pre-registered public client (Dex has no DCR)
 * → token → MCP calls. Only the user agent is replaced, by the headless Dex login.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { recordingFetch, type Exchange } from '@mcp-lab/test-kit/recording-fetch';
import { toolJson } from '@mcp-lab/test-kit/rs-session';
import { HeadlessOAuthProvider } from '@mcp-lab/test-kit/sdk-oauth-provider';
import { requireDex } from './provisioned.ts';
import { DEX_RS_SCOPES, startDexLab, type DexLab } from '@mcp-lab/test-kit/stack-dex';

const dexBin = requireDex() ?? '';
const dexReady = dexBin !== '';

interface FlowResult {
  readonly provider: HeadlessOAuthProvider;
  readonly exchanges: readonly Exchange[];
  readonly toolNames: readonly string[];
  readonly whoami: Record<string, unknown>;
  readonly note: { id: string; text: string };
}

/** The SDK's documented flow: connect → UnauthorizedError after the redirect → finishAuth(code) → connect again. */
async function runSdkFlow(lab: DexLab): Promise<FlowResult> {
  const exchanges: Exchange[] = [];
  // A native client with a pre-registered client id (Dex has no DCR), so the SDK never tries registration; the
  // "browser" is the headless Dex password login. No discovery state kept: the SDK discovers again on finishAuth.
  const provider = new HeadlessOAuthProvider({
    redirectUrl: `http://127.0.0.1:${await freePort()}/callback`,
    username: 'alice@example.com',
    password: 'alice-password',
    driver: 'dex',
    clientId: 'mcp-lab-cli',
    clientMetadata: { client_name: 'mcp-lab SDK test' },
    keepDiscoveryState: false,
  });
  const mcpUrl = new URL(`${lab.rsUrl}/mcp`);
  const transportOptions = { authProvider: provider as unknown as OAuthClientProvider, fetch: recordingFetch(exchanges) };

  const first = new StreamableHTTPClientTransport(mcpUrl, transportOptions);
  await expect(new Client({ name: 'dex-sdk-test', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  // The state check, then the code Dex returned.
  const code = provider.takeCallback().get('code');
  expect(code, 'the headless login produced a code').toBeTypeOf('string');
  await first.finishAuth(code!);

  const client = new Client({ name: 'dex-sdk-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(mcpUrl, transportOptions);
  await client.connect(transport);
  try {
    const toolNames = (await client.listTools()).tools.map((t) => t.name).sort();
    const whoami = toolJson<Record<string, unknown>>(await client.callTool({ name: 'whoami', arguments: {} }));
    const note = toolJson<{ id: string; text: string }>(await client.callTool({ name: 'notes_add', arguments: { text: 'written by the SDK client' } }));
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

function expectAuthorizationRequest(provider: HeadlessOAuthProvider, lab: DexLab): void {
  expect(provider.authorizations).toHaveLength(1);
  const sent = provider.authorizations[0]!;
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
      expect(exchanges).toContainEqual(expect.objectContaining({ method: 'GET', url: `${lab.rsUrl}/.well-known/oauth-protected-resource/mcp`, status: 200 }));
      // Once for connect, once for finishAuth (the provider keeps no discovery state): RFC 8414 each time, nothing else.
      expect(asDiscovery(lab, exchanges)).toEqual([
        '200 /.well-known/oauth-authorization-server/dex',
        '200 /.well-known/oauth-authorization-server/dex',
      ]);
      expect(exchanges).toContainEqual(expect.objectContaining({ method: 'POST', url: `${lab.issuer}/token`, status: 200 }));
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
