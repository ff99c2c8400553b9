/**
 * Step 1: an MCP request without a token, to learn how the server wants to be authorized
 * (MCP authorization: Authorization Server Discovery; RFC 9728 §5.1; RFC 6750 §3).
 */
import { findChallenge, parseWwwAuthenticate, type Challenge } from '@mcp-lab/protocol';
import { FlowError, messageOf } from '../errors.ts';
import type { StepContext } from '../step-context.ts';
import { MODERN_REVISION, type ProtocolEra } from './era.ts';

export type TransportKind = 'http' | 'sse';

export interface ProbeResult {
  readonly status: number;
  /** False when the server answered without asking for credentials. */
  readonly authRequired: boolean;
  readonly challenge: Challenge | undefined;
  readonly resourceMetadataUrl: string | undefined;
  /** Scopes from the challenge; authoritative for the current operation (MCP Scope Selection Strategy). */
  readonly scope: readonly string[] | undefined;
}

/** The 2025 era's first request. */
const INITIALIZE_PROBE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-lab-client-probe', version: '0.1.0' } },
};

/**
 * The 2026-07-28 era's first request (auto and modern): server/discover, with the per-request `_meta` and the
 * MCP-Protocol-Version / Mcp-Method headers every modern POST carries (Streamable HTTP §Standard MCP Request Headers).
 */
const DISCOVER_PROBE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'server/discover',
  params: {
    _meta: {
      'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'mcp-lab-client-probe', version: '0.1.0' },
    },
  },
};

function httpProbe(era: ProtocolEra): RequestInit {
  const modern = era !== 'legacy';
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(modern ? { 'mcp-protocol-version': MODERN_REVISION, 'mcp-method': DISCOVER_PROBE.method } : {}),
    },
    body: JSON.stringify(modern ? DISCOVER_PROBE : INITIALIZE_PROBE),
    redirect: 'manual',
  };
}

/** Splits an RFC 6749 §3.3 scope string. */
export function splitScope(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  const parts = scope.split(' ').filter(Boolean);
  return parts.length ? parts : undefined;
}

/**
 * Reads the Bearer challenge of a 401/403 (RFC 9110 §11.6.1 grammar via @mcp-lab/protocol).
 * @throws FlowError when the header does not follow the grammar.
 */
export function readBearerChallenge(response: Response): Challenge | undefined {
  const header = response.headers.get('www-authenticate');
  if (header === null) return undefined;
  let challenges: Challenge[];
  try {
    challenges = parseWwwAuthenticate(header);
  } catch (cause) {
    throw new FlowError(`the server's WWW-Authenticate header is malformed: ${messageOf(cause)}`, {
      hint: 'this is a server bug; the header must follow RFC 9110 §11.6.1',
      cause,
    });
  }
  return findChallenge(challenges, 'Bearer');
}

/** The code of a JSON-RPC error response body (`{"jsonrpc":"2.0","error":{"code":…}}`), if the body is one. */
async function jsonRpcErrorOf(response: Response): Promise<number | undefined> {
  if (!(response.headers.get('content-type') ?? '').includes('application/json')) return undefined;
  try {
    const body = (await response.json()) as { jsonrpc?: unknown; error?: { code?: unknown } };
    return body.jsonrpc === '2.0' && typeof body.error?.code === 'number' ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sends the unauthenticated request the transport (and, over Streamable HTTP, the era) would send first and reads
 * the answer.
 */
export async function probe(ctx: StepContext, serverUrl: string, transport: TransportKind, era: ProtocolEra = 'legacy'): Promise<ProbeResult> {
  let response: Response;
  try {
    response =
      transport === 'http'
        ? await ctx.fetch(serverUrl, httpProbe(era))
        : await ctx.fetch(serverUrl, { method: 'GET', headers: { accept: 'text/event-stream' }, redirect: 'manual' });
  } catch (cause) {
    throw new FlowError(`cannot reach the MCP server at ${serverUrl}: ${messageOf(cause)}`, {
      hint: 'check the URL and that the server is running',
      cause,
    });
  }
  const rpcError = response.ok || response.status === 401 || response.status === 403 ? undefined : await jsonRpcErrorOf(response);
  await response.body?.cancel().catch(() => undefined);
  if (response.ok || rpcError !== undefined) {
    // A JSON-RPC error on a 4xx (e.g. a 2026-07-28-only server refusing the 2025 initialize) is the server
    // answering the MCP request itself, without asking for credentials: the era step negotiates from there.
    const detail = rpcError !== undefined ? `no: HTTP ${response.status} with JSON-RPC error ${rpcError} without a token` : `no: HTTP ${response.status} without a token`;
    ctx.record({ name: 'server requires authorization', ok: true, detail });
    return { status: response.status, authRequired: false, challenge: undefined, resourceMetadataUrl: undefined, scope: undefined };
  }
  ctx.check(
    'unauthenticated request answered 401',
    response.status === 401,
    `HTTP ${response.status}`,
    response.status === 404 ? 'is the URL the MCP endpoint (e.g. …/mcp or …/sse)?' : undefined,
  );
  const challenge = readBearerChallenge(response);
  ctx.record({
    name: 'Bearer challenge present',
    ok: challenge !== undefined,
    detail: challenge ? 'WWW-Authenticate: Bearer' : 'no Bearer challenge; falling back to well-known URIs',
  });
  const resourceMetadataUrl = challenge?.params.resource_metadata;
  const scope = splitScope(challenge?.params.scope);
  if (challenge) {
    ctx.record({
      name: 'resource_metadata in challenge',
      ok: resourceMetadataUrl !== undefined,
      detail: resourceMetadataUrl ?? 'absent; falling back to well-known URIs',
    });
  }
  return { status: response.status, authRequired: true, challenge, resourceMetadataUrl, scope };
}
