/**
 * The resource server with its Dex profile, against real Dex behind authz-metadata (all real processes):
 * the challenge tells a client which Dex scopes to request, Dex tokens with the RS audience work over every
 * transport (Streamable HTTP, HTTP+SSE with a bearer, HTTP+SSE with the cookie session), and tokens without the
 * audience or from another issuer are refused with invalid_token.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChallenge, parseProtectedResourceMetadata, parseWwwAuthenticate } from '@mcp-lab/protocol';
import type { Challenge } from '@mcp-lab/protocol';
import { startDexStack, type DexStack } from '@mcp-lab/test-kit/dex-stack';
import {
  DEX_RS_AUDIENCE_SCOPE,
  DEX_RS_SCOPES,
  dexAccessToken,
  startDexLab,
  startDexRs,
  type DexLab,
  type DexRs,
} from '@mcp-lab/test-kit/stack-dex';
import { INIT_BODY, MCP_HEADERS } from '@mcp-lab/test-kit/mcp-messages';
import { toolJson, type Note } from '@mcp-lab/test-kit/rs-session';
import { requireDex } from './provisioned.ts';

const dexBin = requireDex() ?? '';
const dexReady = dexBin !== '';

/** What a client following the challenge asks Dex for. */
const RS_SCOPE = DEX_RS_SCOPES.join(' ');
const INITIALIZE = JSON.stringify(INIT_BODY);

/** Connects the SDK client over `transport`, adds a note, and returns the caller's notes and whoami. */
async function addAndList(transport: Transport, text: string): Promise<{ whoami: Record<string, unknown>; added: Note; notes: Note[] }> {
  const client = new Client({ name: 'dex-rs-test', version: '1' });
  await client.connect(transport);
  try {
    const whoami = toolJson(await client.callTool({ name: 'whoami', arguments: {} })) as Record<string, unknown>;
    const added = toolJson(await client.callTool({ name: 'notes_add', arguments: { text } })) as Note;
    const notes = toolJson(await client.callTool({ name: 'notes_list', arguments: {} })) as Note[];
    return { whoami, added, notes };
  } finally {
    await client.close();
  }
}

/** POSTs an initialize to /mcp with the given token and returns the status and the Bearer challenge. */
async function probeMcp(rsUrl: string, token?: string): Promise<{ status: number; challenge: Challenge | undefined; body: unknown }> {
  const res = await fetch(`${rsUrl}/mcp`, {
    method: 'POST',
    headers: {
      ...MCP_HEADERS,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: INITIALIZE,
  });
  const header = res.headers.get('www-authenticate');
  const body = (await res.json()) as unknown;
  return { status: res.status, challenge: header === null ? undefined : findChallenge(parseWwwAuthenticate(header), 'Bearer'), body };
}

let lab: DexLab;
let alice: string;
let bob: string;

describe.runIf(dexReady)('the RS with its Dex profile, against real Dex', () => {
  beforeAll(async () => {
    lab = await startDexLab({ dexBin });
    [alice, bob] = await Promise.all([
      dexAccessToken(lab.issuer, { scope: RS_SCOPE, login: 'alice@example.com', password: 'alice-password' }),
      dexAccessToken(lab.issuer, { scope: RS_SCOPE, login: 'bob@example.com', password: 'bob-password' }),
    ]);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  acceptedTokenTests();
  usersAndRefusalTests();
});

function acceptedTokenTests(): void {
  it('challenges an anonymous /mcp request with its metadata URL and exactly the scopes Dex needs for the RS audience', async () => {
    const probe = await probeMcp(lab.rsUrl);
    expect(probe.status).toBe(401);
    expect(probe.challenge?.params).toEqual({
      resource_metadata: `${lab.rsUrl}/.well-known/oauth-protected-resource/mcp`,
      scope: `openid email offline_access ${DEX_RS_AUDIENCE_SCOPE}`,
    });
  });

  it("names Dex's issuer as the authorization server in its protected resource metadata", async () => {
    const res = await fetch(`${lab.rsUrl}/.well-known/oauth-protected-resource/mcp`);
    expect(res.status).toBe(200);
    const prm = parseProtectedResourceMetadata(await res.json());
    expect(prm.resource).toBe(`${lab.rsUrl}/mcp`);
    expect(prm.authorization_servers).toEqual([lab.issuer]);
    expect(prm.scopes_supported).toEqual([...DEX_RS_SCOPES]);
  });

  it('accepts a Dex token requested with the challenge scope over Streamable HTTP, with permissions from the email claim', async () => {
    const claims = decodeJwt(alice);
    expect(claims.aud).toEqual(['mcp-lab-rs', 'mcp-lab-cli']);

    const { whoami, added, notes } = await addAndList(
      new StreamableHTTPClientTransport(new URL(`${lab.rsUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }),
      'alice over streamable http',
    );
    expect(whoami).toMatchObject({
      iss: lab.issuer,
      sub: claims.sub,
      email: 'alice@example.com',
      aud: ['mcp-lab-rs', 'mcp-lab-cli'],
      client_id: 'mcp-lab-cli',
    });
    expect([...(whoami.permissions as string[])].sort()).toEqual(['notes:read', 'notes:write']);
    expect(added.text).toBe('alice over streamable http');
    expect(notes.map((n) => n.id)).toContain(added.id);
  });

  it('accepts the same token over HTTP+SSE with a bearer header', async () => {
    const { whoami, added, notes } = await addAndList(
      new SSEClientTransport(new URL(`${lab.rsUrl}/sse`), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }),
      'alice over sse',
    );
    expect(whoami).toMatchObject({ iss: lab.issuer, email: 'alice@example.com' });
    expect(notes.map((n) => n.id)).toContain(added.id);
    expect(notes.map((n) => n.text)).toContain('alice over streamable http');
  });

  it('trades the token for a cookie session and serves HTTP+SSE on the cookie alone (Origin = the RS origin)', async () => {
    const created = await fetch(`${lab.rsUrl}/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, origin: lab.rsUrl },
    });
    expect(created.status).toBe(204);
    const setCookie = created.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^mcp_lab_session=[^;]+;/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    const cookie = setCookie.split(';', 1)[0]!;

    const { whoami, added, notes } = await addAndList(
      new SSEClientTransport(new URL(`${lab.rsUrl}/sse`), { requestInit: { headers: { cookie, origin: lab.rsUrl } } }),
      'alice with a cookie',
    );
    expect(whoami).toMatchObject({ iss: lab.issuer, email: 'alice@example.com' });
    expect(notes.map((n) => n.id)).toContain(added.id);
  });
}

function usersAndRefusalTests(): void {
  it("keeps alice's notes from bob", async () => {
    const { whoami, added, notes } = await addAndList(
      new StreamableHTTPClientTransport(new URL(`${lab.rsUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${bob}` } } }),
      'bob only',
    );
    expect(whoami).toMatchObject({ email: 'bob@example.com' });
    expect(whoami.sub).not.toBe(decodeJwt(alice).sub);
    expect(notes).toEqual([expect.objectContaining({ id: added.id, text: 'bob only' })]);
  });

  it('refuses a token issued to the CLI without the RS audience scope with 401 invalid_token', async () => {
    const cliOnly = await dexAccessToken(lab.issuer, { scope: 'openid email', login: 'alice@example.com', password: 'alice-password' });
    expect(decodeJwt(cliOnly).aud).toBe('mcp-lab-cli');
    const probe = await probeMcp(lab.rsUrl, cliOnly);
    expect(probe.status).toBe(401);
    expect(probe.challenge?.params).toMatchObject({
      error: 'invalid_token',
      resource_metadata: `${lab.rsUrl}/.well-known/oauth-protected-resource/mcp`,
    });
    expect(probe.challenge?.params.error_description).toMatch(/\baud\b/);
    // The body is a JSON-RPC error; the RFC 6750 code travels in data.
    expect(probe.body).toMatchObject({ jsonrpc: '2.0', error: { code: -31401, data: { error: 'invalid_token' } } });
  });

  describe('an RS configured for another issuer', () => {
    let other: DexStack;
    let otherRs: DexRs;
    let sameKeysRs: DexRs;

    beforeAll(async () => {
      // A second, independent Dex (own issuer, own keys) and an RS that trusts only it.
      other = await startDexStack({ dexBin });
      otherRs = await startDexRs({ issuer: other.issuer });
      // An RS that expects another issuer but would find the first Dex's keys: only the `iss` check stands in the way.
      sameKeysRs = await startDexRs({
        issuer: `${lab.publicOrigin}/not-this-dex`,
        env: { MCP_JWKS_URL: `${lab.issuer}/keys` },
      });
    });
    afterAll(async () => {
      await Promise.all([otherRs?.stop(), sameKeysRs?.stop()]);
      await other?.stop();
    });

    it("refuses a Dex token at an RS that trusts a different Dex with 401 invalid_token (the token's key is unknown there)", async () => {
      const probe = await probeMcp(otherRs.rsUrl, alice);
      expect(probe.status).toBe(401);
      expect(probe.challenge?.params).toMatchObject({
        error: 'invalid_token',
        resource_metadata: `${otherRs.rsUrl}/.well-known/oauth-protected-resource/mcp`,
      });
    });

    it('refuses a correctly signed Dex token whose iss is not the configured issuer with 401 invalid_token', async () => {
      const probe = await probeMcp(sameKeysRs.rsUrl, alice);
      expect(probe.status).toBe(401);
      expect(probe.challenge?.params.error).toBe('invalid_token');
      expect(probe.challenge?.params.error_description).toMatch(/\biss\b/);
    });
  });
}
