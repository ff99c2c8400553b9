/**
 * The interoperability matrix: the official MCP SDK clients of both majors, unmodified, against the lab on every
 * IdP profile and both transports, through the full flow to a `tools/call` of `notes_add` (which needs
 * `notes:write`, more than the first challenge asks for: a step-up on IdPs whose permissions are scopes).
 *
 * A cell measures what happened and reports it as a {@link CellResult}; `tests/sdk-matrix.json` holds the results
 * the README table is rendered from (scripts/sdk-matrix-table.ts), and each cell test asserts that its measured
 * result is the recorded one — a change in any client, IdP or the lab fails the test until the table is redone.
 *
 * Where a client has no step-up of its own, the cell proves two things, never working around it: the lab answered
 * correctly (403 with `WWW-Authenticate: Bearer error="insufficient_scope"` naming `notes:write`), and what stopped
 * the client is its documented limit (its own error, and no new authorization request after the 403).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as SseV1 } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as StreamableV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError as UnauthorizedV1, type OAuthClientProvider as ProviderV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import {
  Client as ClientV2,
  SSEClientTransport as SseV2,
  StreamableHTTPClientTransport as StreamableV2,
  UnauthorizedError as UnauthorizedV2,
  type OAuthClientProvider as ProviderV2,
} from '@modelcontextprotocol/client';
import { parseWwwAuthenticate } from '@mcp-lab/protocol';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { HeadlessOAuthProvider } from '@mcp-lab/test-kit/sdk-oauth-provider';
import { recordingFetch, type Exchange } from '@mcp-lab/test-kit/recording-fetch';
import { loadProfile } from '@mcp-lab/launcher';
import type { LoginDriverName } from '@mcp-lab/test-kit/login';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const RESULTS_FILE = `${ROOT}tests/sdk-matrix.json`;
/** Where a run writes what each cell measured (gitignored); `scripts/sdk-matrix-table.ts --update` reads it. */
export const MEASURED_DIR = `${ROOT}tests/.sdk-matrix`;

export const SDK_CLIENTS = ['sdk-v1', 'sdk-v2'] as const;
export type SdkClient = (typeof SDK_CLIENTS)[number];
export const TRANSPORTS = ['streamable-http', 'http+sse'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/**
 * - `called`: notes_add succeeded with the first token (the IdP's permissions are claims: no step-up is needed);
 * - `stepped-up`: the SDK answered the 403 with a new authorization for the union scope by itself, and the call
 *   succeeded after the application completed that redirect (`finishAuth`, as for the first login);
 * - `stopped`: the lab answered 403 insufficient_scope correctly and the client's own limit stopped it (`limit`).
 */
export type Outcome = 'called' | 'stepped-up' | 'stopped';

export interface CellResult {
  readonly client: SdkClient;
  readonly idp: string;
  readonly transport: TransportName;
  readonly outcome: Outcome;
  /** For `stopped`: the client's limit, in words, as measured. */
  readonly limit?: string;
}

/** The recorded results (tests/sdk-matrix.json). */
export function recordedResults(): CellResult[] {
  return JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as CellResult[];
}

export function recordedCell(client: SdkClient, idp: string, transport: TransportName): CellResult | undefined {
  return recordedResults().find((c) => c.client === client && c.idp === idp && c.transport === transport);
}

/** Writes a measured cell for `scripts/sdk-matrix-table.ts --update`. */
export function writeMeasured(cell: CellResult): void {
  mkdirSync(MEASURED_DIR, { recursive: true });
  writeFileSync(`${MEASURED_DIR}/${cell.idp}-${cell.client}-${cell.transport.replace('+', '-')}.json`, `${JSON.stringify(cell, null, 2)}\n`);
}

interface SdkConnection {
  listTools(): Promise<{ tools: { name: string }[] }>;
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
}

/** What differs between the two majors: constructors, `finishAuth`'s argument, the Unauthorized class. */
interface SdkAdapter {
  transport(kind: TransportName, url: URL, provider: HeadlessOAuthProvider, fetchFn: typeof fetch): { transport: unknown; finishAuth(params: URLSearchParams): Promise<void> };
  connect(transport: unknown): Promise<SdkConnection>;
  isUnauthorized(err: unknown): boolean;
}

const ADAPTERS: Record<SdkClient, SdkAdapter> = {
  'sdk-v1': {
    transport(kind, url, provider, fetchFn) {
      const opts = { authProvider: provider as unknown as ProviderV1, fetch: fetchFn };
      const t = kind === 'streamable-http' ? new StreamableV1(url, opts) : new SseV1(url, opts);
      // v1 takes the code only (it has no RFC 9207 iss check of its own).
      return { transport: t, finishAuth: (p: URLSearchParams) => t.finishAuth(p.get('code') ?? '') };
    },
    async connect(transport) {
      const client = new ClientV1({ name: 'mcp-lab-sdk-matrix', version: '1' });
      await client.connect(transport as StreamableV1);
      return client;
    },
    isUnauthorized: (err) => err instanceof UnauthorizedV1,
  },
  'sdk-v2': {
    transport(kind, url, provider, fetchFn) {
      const opts = { authProvider: provider as unknown as ProviderV2, fetch: fetchFn };
      const t = kind === 'streamable-http' ? new StreamableV2(url, opts) : new SseV2(url, opts);
      // v2 takes the whole authorization response and checks its RFC 9207 iss itself.
      return { transport: t, finishAuth: (p: URLSearchParams) => t.finishAuth(p) };
    },
    async connect(transport) {
      const client = new ClientV2({ name: 'mcp-lab-sdk-matrix', version: '1' });
      await client.connect(transport as StreamableV2);
      return client as unknown as SdkConnection;
    },
    isUnauthorized: (err) => err instanceof UnauthorizedV2,
  },
};

export interface LabUnderTest {
  /** The profile name (embedded, keycloak, dex, …). */
  readonly idp: string;
  readonly rsUrl: string;
}

/** Everything a cell saw, for its assertions. */
export interface CellRun {
  readonly result: CellResult;
  readonly exchanges: readonly Exchange[];
  readonly provider: HeadlessOAuthProvider;
  readonly toolNames: readonly string[];
  /** The notes_add result, when the call succeeded. */
  readonly note?: { id: string; text: string };
  /** The error that stopped the client, when it stopped. */
  readonly error?: Error;
  /** `aud` of the access token the client holds at the end (decoded, not verified: the RS verified it). */
  readonly audience: unknown;
  /** Authorization requests made before and after the first 403 on notes_add. */
  readonly authorizationsBefore403: number;
}

/**
 * Runs one cell: the SDK's documented flow (connect → UnauthorizedError after the redirect → finishAuth → connect
 * again), tools/list, then notes_add. An UnauthorizedError from notes_add means the SDK itself started a new
 * authorization (its step-up); the application completes it exactly like the first one and retries the call.
 */
export async function runCell(client: SdkClient, lab: LabUnderTest, transportName: TransportName): Promise<CellRun> {
  const profile = loadProfile(lab.idp);
  const user = profile.login.users[0]!;
  const reg = profile.registration;
  const provider = new HeadlessOAuthProvider({
    redirectUrl: `http://127.0.0.1:${await freePort()}/callback`,
    username: user.username,
    password: user.password,
    driver: profile.login.driver as LoginDriverName,
    ...(reg.method === 'pre-registered' ? { clientId: reg.clientId } : {}),
  });
  const adapter = ADAPTERS[client];
  const exchanges: Exchange[] = [];
  const fetchFn = recordingFetch(exchanges);
  const url = new URL(`${lab.rsUrl}${transportName === 'streamable-http' ? '/mcp' : '/sse'}`);

  const first = adapter.transport(transportName, url, provider, fetchFn);
  const refused = await adapter.connect(first.transport).then(
    (c) => c,
    (err: unknown) => err,
  );
  if (!adapter.isUnauthorized(refused)) throw new Error(`${client}: the first connect should end in UnauthorizedError after the redirect, got ${String(refused)}`);
  await first.finishAuth(provider.takeCallback());

  const transport = adapter.transport(transportName, url, provider, fetchFn);
  const conn = await adapter.connect(transport.transport);
  try {
    const toolNames = (await conn.listTools()).tools.map((t) => t.name).sort();
    const authorizationsBefore403 = provider.authorizations.length;
    const call = () => conn.callTool({ name: 'notes_add', arguments: { text: `written by ${client} over ${transportName}` } });
    let outcome: Outcome = 'called';
    let result: unknown;
    let error: Error | undefined;
    try {
      result = await call();
    } catch (err) {
      if (adapter.isUnauthorized(err) && provider.authorizations.length > authorizationsBefore403) {
        await transport.finishAuth(provider.takeCallback());
        result = await call();
        outcome = 'stepped-up';
      } else {
        error = err as Error;
        outcome = 'stopped';
      }
    }
    const note = result === undefined ? undefined : (JSON.parse((result as { content: { text: string }[] }).content[0]!.text) as { id: string; text: string });
    const cell: CellResult = {
      client,
      idp: lab.idp,
      transport: transportName,
      outcome,
      ...(error === undefined ? {} : { limit: describeLimit(transportName, error, exchanges) }),
    };
    writeMeasured(cell);
    const accessToken = String(provider.tokens()?.access_token ?? '');
    const audience = (JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString() || '{}') as { aud?: unknown }).aud;
    return { result: cell, exchanges, provider, toolNames, audience, ...(note ? { note } : {}), ...(error ? { error } : {}), authorizationsBefore403 };
  } finally {
    await conn.close();
  }
}

/** The client's limit, in words, from what it did after the 403 (its error and the requests it made). */
function describeLimit(transport: TransportName, error: Error, exchanges: readonly Exchange[]): string {
  const first403 = exchanges.findIndex((e) => e.status === 403);
  const after = first403 < 0 ? [] : exchanges.slice(first403 + 1);
  const refreshed = after.some((e) => e.grantType === 'refresh_token');
  // The SDK's own words, without the response body it appends.
  if (transport === 'http+sse') return `has no step-up in its HTTP+SSE transport: a 403 on POST /messages is thrown as is ("${error.message.split(': ')[0]}")`;
  const msg = error.message.replace(/^Streamable HTTP error: /, '').split(': ')[0];
  return `${refreshed ? 'answers 403 insufficient_scope only with a refresh (same scope), then gives up' : 'gives up on 403 insufficient_scope'} ("${msg}")`;
}

/** The lab's 403 answers to the client, parsed: status, error and scope of each Bearer challenge. */
export function insufficientScopeAnswers(exchanges: readonly Exchange[]): { error?: string; scope?: string }[] {
  return exchanges
    .filter((e) => e.status === 403)
    .map((e) => {
      const bearer = e.wwwAuthenticate === null ? undefined : parseWwwAuthenticate(e.wwwAuthenticate).find((c) => c.scheme.toLowerCase() === 'bearer');
      return { ...(bearer?.params.error ? { error: bearer.params.error } : {}), ...(bearer?.params.scope ? { scope: bearer.params.scope } : {}) };
    });
}
