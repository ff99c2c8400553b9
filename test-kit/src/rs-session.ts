/**
 * The resource server as the MCP SDK's own clients see it, for suites against the real RS: tokens from the
 * embedded IdP for one of its resources, SDK clients over both transports, and readers for tool results and
 * Bearer challenges (RFC 6750 §3, parsed by the shared grammar).
 */
import { DEMO_USERS } from '@mcp-lab/embedded-idp';
import { findChallenge, parseWwwAuthenticate, type Challenge } from '@mcp-lab/protocol';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { expect } from 'vitest';
import type { EmbeddedStack } from './stack-embedded.ts';
import { obtainToken, type ObtainedToken } from './tokens.ts';

/** Both notes scopes, as the demo users may have them. */
export const NOTES_SCOPE = 'notes:read notes:write';
export const NOTES_TOOLS = ['notes_add', 'notes_delete', 'notes_list', 'whoami'];
export { INIT_BODY, MCP_HEADERS } from './mcp-messages.ts';

export interface Note {
  readonly id: string;
  readonly text: string;
  readonly createdAt: string;
}

/** One of the embedded IdP's demo users (username, password, sub, email). */
export function demoUser(username: string) {
  const user = DEMO_USERS.find((u) => u.username === username);
  if (user === undefined) throw new Error(`no demo user ${username}`);
  return user;
}

export const ALICE = demoUser('alice');
export const BOB = demoUser('bob');

/** A real token from the stack's IdP for the RS resource at `path`, by DCR unless `clientId` is given. */
export function embeddedToken(
  stack: EmbeddedStack,
  user: { readonly username: string; readonly password: string },
  path: '/mcp' | '/sse',
  scope = NOTES_SCOPE,
  clientId?: string,
): Promise<ObtainedToken> {
  return obtainToken({
    issuer: stack.idpIssuer,
    resource: `${stack.rsUrl}${path}`,
    scope,
    username: user.username,
    password: user.password,
    ...(clientId === undefined ? {} : { clientId }),
  });
}

/** The JSON a tool returned as its one text content. */
export function toolJson<T = unknown>(result: unknown): T {
  const content = (result as { content: Array<{ type: string; text: string }> }).content;
  expect(content[0]?.type).toBe('text');
  return JSON.parse(content[0]!.text) as T;
}

/** A fetch that sets `extra` headers on every request and records the headers each request was sent with. */
export function fetchWith(extra: Record<string, string>, sent: Headers[] = []): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(extra)) headers.set(name, value);
    sent.push(headers);
    return fetch(input, { ...init, headers });
  };
}

/** The SDK client connected over Streamable HTTP to `<rsUrl>/mcp` with a bearer token. */
export async function connectStreamable(rsUrl: string, token: string, fetchImpl?: typeof fetch): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'rs-embedded', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(`${rsUrl}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
  });
  await client.connect(transport);
  return { client, transport };
}

/** The SDK client connected over HTTP+SSE to `<rsUrl>/sse`, the bearer token on the stream and on every message. */
export async function connectSseWithBearer(rsUrl: string, token: string): Promise<Client> {
  const client = new Client({ name: 'rs-embedded', version: '1' });
  const authorization = `Bearer ${token}`;
  const transport = new SSEClientTransport(new URL(`${rsUrl}/sse`), {
    eventSourceInit: { fetch: fetchWith({ authorization }) },
    requestInit: { headers: { authorization } },
  });
  await client.connect(transport);
  return client;
}

/** The single Bearer challenge of a response. */
export function bearerChallengeOf(res: Response): Challenge {
  const header = res.headers.get('www-authenticate');
  expect(header).not.toBeNull();
  const challenge = findChallenge(parseWwwAuthenticate(header!), 'Bearer');
  expect(challenge).toBeDefined();
  return challenge!;
}
