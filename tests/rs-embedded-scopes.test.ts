/**
 * Users and scopes against the real RS and embedded IdP: one user's notes and session are kept from another's, and
 * a token with only notes:read is stepped up with 403 insufficient_scope (RFC 6750 §3.1).
 */
import { CLI_CLIENT_ID } from '@mcp-lab/embedded-idp';
import { parseWwwAuthenticate } from '@mcp-lab/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, bearerChallengeOf, connectStreamable, embeddedToken, MCP_HEADERS, type Note, NOTES_SCOPE, toolJson } from '@mcp-lab/test-kit/rs-session';
import { startEmbeddedStack, type EmbeddedStack } from '@mcp-lab/test-kit/stack-embedded';
import type { ObtainedToken } from '@mcp-lab/test-kit/tokens';

let stack: EmbeddedStack;
let aliceMcp: ObtainedToken;
let bobMcp: ObtainedToken;
let aliceReadOnly: ObtainedToken;

beforeAll(async () => {
  stack = await startEmbeddedStack();
  [aliceMcp, bobMcp, aliceReadOnly] = await Promise.all([
    embeddedToken(stack, ALICE, '/mcp'),
    // The pre-registered CLI client as well as dynamically registered ones.
    embeddedToken(stack, BOB, '/mcp', NOTES_SCOPE, CLI_CLIENT_ID),
    embeddedToken(stack, ALICE, '/mcp', 'notes:read'),
  ]);
});

afterAll(async () => {
  await stack?.stop();
});

describe('users are kept apart', () => {
  it("bob sees none of alice's notes and cannot delete them", async () => {
    const alice = await connectStreamable(stack.rsUrl, aliceMcp.access_token);
    const bob = await connectStreamable(stack.rsUrl, bobMcp.access_token);
    try {
      expect(toolJson(await bob.client.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({ sub: BOB.sub, email: BOB.email, client_id: CLI_CLIENT_ID });
      const added = toolJson<Note>(await alice.client.callTool({ name: 'notes_add', arguments: { text: 'alice only' } }));

      const bobsNotes = toolJson<Note[]>(await bob.client.callTool({ name: 'notes_list', arguments: {} }));
      expect(bobsNotes.map((n) => n.id)).not.toContain(added.id);
      expect(bobsNotes.map((n) => n.text)).not.toContain('alice only');

      const attempt = await bob.client.callTool({ name: 'notes_delete', arguments: { id: added.id } });
      expect(attempt.isError).toBe(true);
      expect(toolJson<Note[]>(await alice.client.callTool({ name: 'notes_list', arguments: {} }))).toContainEqual(added);

      await alice.client.callTool({ name: 'notes_delete', arguments: { id: added.id } });
    } finally {
      await alice.transport.terminateSession();
      await bob.transport.terminateSession();
      await Promise.all([alice.client.close(), bob.client.close()]);
    }
  });

  it("refuses bob's real token on alice's Streamable HTTP session (403)", async () => {
    const alice = await connectStreamable(stack.rsUrl, aliceMcp.access_token);
    try {
      const res = await fetch(`${stack.rsUrl}/mcp`, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${bobMcp.access_token}`, 'mcp-session-id': alice.transport.sessionId! },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'notes_list', arguments: {} } }),
      });
      expect(res.status).toBe(403);
      const text = await res.text();
      expect(text).not.toContain(ALICE.sub);
      // What it is: someone else's session, not a scope problem (no challenge, so no client re-authorizes).
      expect(res.headers.get('www-authenticate')).toBeNull();
      expect(JSON.parse(text)).toMatchObject({ jsonrpc: '2.0', id: 9, error: { code: -31403, data: { error: 'session_forbidden' } } });
    } finally {
      await alice.transport.terminateSession();
      await alice.client.close();
    }
  });
});

describe('a token with only notes:read', () => {
  it('may read, but notes_add answers HTTP 403 insufficient_scope naming notes:write', async () => {
    const exchanges: Array<{ body: string; res: Response }> = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      exchanges.push({ body: typeof init?.body === 'string' ? init.body : '', res });
      return res;
    };
    const { client, transport } = await connectStreamable(stack.rsUrl, aliceReadOnly.access_token, recording);
    try {
      expect(toolJson(await client.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({ sub: ALICE.sub, permissions: ['notes:read'] });
      expect(toolJson(await client.callTool({ name: 'notes_list', arguments: {} }))).toEqual(expect.any(Array));

      await expect(client.callTool({ name: 'notes_add', arguments: { text: 'not allowed' } })).rejects.toMatchObject({ code: 403 });
      const refused = exchanges.find((e) => e.body.includes('"notes_add"'))!.res;
      expect(refused.status).toBe(403);
      const challenges = parseWwwAuthenticate(refused.headers.get('www-authenticate')!);
      expect(challenges).toHaveLength(1);
      const { params } = challenges[0]!;
      expect(challenges[0]!.scheme).toBe('Bearer');
      expect(params.error).toBe('insufficient_scope');
      expect(params.scope?.split(' ')).toContain('notes:write');
      expect(params.resource_metadata).toBe(`${stack.rsUrl}/.well-known/oauth-protected-resource/mcp`);
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });
});
