import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/**
 * Just enough MCP over Streamable HTTP (spec "Transports", 2025-11-25) for the bench: a fixed tools/call request,
 * a response check that accepts a JSON body or an SSE body, and the initialize handshake of a stateful server.
 */

/** The tool every target serves; its text result is a JSON object with at least `sub`. */
export const BENCH_TOOL = 'whoami';
export const BENCH_SUBJECT = 'bench-user';

/** A Streamable HTTP POST must accept both answers (JSON or an SSE stream). */
export const STREAMABLE_ACCEPT = 'application/json, text/event-stream';

export const TOOLS_CALL_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: BENCH_TOOL, arguments: {} },
});

/** The 2026-07-28 revision the stateless targets speak. */
export const MODERN_REVISION = '2026-07-28';

/** The same call as a stateless 2026-07-28 request: the per-request `_meta` envelope in the body… */
export const MODERN_TOOLS_CALL_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: BENCH_TOOL,
    arguments: {},
    _meta: {
      'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
      'io.modelcontextprotocol/clientInfo': { name: 'mcp-lab-bench', version: '0.1.0' },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
});

/** …and its standard headers (SEP-2243), mirrored from the body. */
export const MODERN_HEADERS = Object.freeze({
  'mcp-protocol-version': MODERN_REVISION,
  'mcp-method': 'tools/call',
  'mcp-name': BENCH_TOOL,
});

/** The JSON-RPC messages of a response body: the body itself when JSON, else the `data` of each SSE event. */
export function jsonRpcMessages(body: string): unknown[] {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return [JSON.parse(trimmed) as unknown];
  const messages: unknown[] = [];
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data !== '') messages.push(JSON.parse(data) as unknown);
  }
  return messages;
}

/** True when `body` answers request id 1 with a successful whoami result for the bench subject. */
export function isWhoamiResult(body: string): boolean {
  let messages: unknown[];
  try {
    messages = jsonRpcMessages(body);
  } catch {
    // Not JSON at all: a wrong body, counted by the caller as a mismatch.
    return false;
  }
  return messages.some((m) => {
    if (typeof m !== 'object' || m === null) return false;
    const msg = m as { id?: unknown; result?: { isError?: unknown; content?: unknown } };
    if (msg.id !== 1 || msg.result === undefined || msg.result.isError === true) return false;
    const content = msg.result.content;
    if (!Array.isArray(content)) return false;
    const first = content[0] as { type?: unknown; text?: unknown } | undefined;
    if (first?.type !== 'text' || typeof first.text !== 'string') return false;
    try {
      return (JSON.parse(first.text) as { sub?: unknown }).sub === BENCH_SUBJECT;
    } catch {
      return false;
    }
  });
}

export interface McpSession {
  readonly sessionId: string;
  readonly protocolVersion: string;
  /** Headers for every later request of the session (bearer, session id, protocol version, Accept). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Runs initialize + notifications/initialized against a stateful Streamable HTTP endpoint. */
export async function openSession(mcpUrl: string, token: string): Promise<McpSession> {
  const base = {
    authorization: `Bearer ${token}`,
    accept: STREAMABLE_ACCEPT,
    'content-type': 'application/json',
  };
  const init = await fetch(mcpUrl, {
    method: 'POST',
    headers: base,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'mcp-lab-bench', version: '0.1.0' },
      },
    }),
  });
  const text = await init.text();
  if (!init.ok) throw new Error(`initialize answered ${init.status}: ${text.slice(0, 300)}`);
  const sessionId = init.headers.get('mcp-session-id');
  if (sessionId === null) throw new Error('initialize answered without an Mcp-Session-Id header');
  const result = jsonRpcMessages(text).find((m) => (m as { id?: unknown }).id === 0) as
    | { result?: { protocolVersion?: unknown } }
    | undefined;
  const protocolVersion = result?.result?.protocolVersion;
  if (typeof protocolVersion !== 'string') throw new Error(`initialize result has no protocolVersion: ${text.slice(0, 300)}`);
  const headers = { ...base, 'mcp-session-id': sessionId, 'mcp-protocol-version': protocolVersion };
  const ack = await fetch(mcpUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await ack.body?.cancel();
  if (ack.status !== 202 && !ack.ok) throw new Error(`notifications/initialized answered ${ack.status}`);
  return { sessionId, protocolVersion, headers };
}

/** One tools/call with fetch, to check a target before loading it; returns status and body. */
export async function callOnce(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string = TOOLS_CALL_BODY,
): Promise<{ status: number; contentType: string | null; body: string }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

/** initialize + notifications/initialized against an in-process app (`app.inject`); returns the session headers. */
export async function openSessionInProcess(
  app: { inject(opts: { method: 'POST'; url: string; headers: Record<string, string>; payload: string }): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }> },
  headers: Record<string, string>,
): Promise<Record<string, string>> {
  const init = await app.inject({
    method: 'POST',
    url: '/mcp',
    headers,
    payload: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-lab-bench', version: '0.1.0' } },
    }),
  });
  const sessionId = init.headers['mcp-session-id'];
  if (init.statusCode !== 200 || typeof sessionId !== 'string') throw new Error(`initialize answered ${init.statusCode}: ${init.body.slice(0, 300)}`);
  const session = { 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  await app.inject({ method: 'POST', url: '/mcp', headers: { ...headers, ...session }, payload: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return session;
}
