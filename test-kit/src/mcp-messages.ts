/**
 * MCP requests as tests send them by hand: the initialize request, the headers Streamable HTTP asks for (the client
 * must accept both JSON and an event stream), a tools/call, and a 2026-07-28 request with its envelope and headers.
 */
export const INIT_BODY = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-lab-test', version: '1' } },
};

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A JSON-RPC tools/call request. */
export function toolCall(name: string, args: Record<string, unknown> = {}, id: string | number = 2) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

/** The per-request `_meta` envelope of a 2026-07-28 request. */
export const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A 2026-07-28 request: its body (with the envelope) and its standard headers (SEP-2243). */
export function modernRequest(method: string, params: Record<string, unknown> = {}, id: string | number = 5) {
  // Mcp-Name carries the tool's name, or the URI of resources/read.
  const named = method === 'resources/read' ? params.uri : params.name;
  const name = typeof named === 'string' ? named : undefined;
  return {
    headers: {
      ...MCP_HEADERS,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(name !== undefined ? { 'mcp-name': name } : {}),
    } as Record<string, string>,
    payload: { jsonrpc: '2.0', id, method, params: { ...params, _meta: MODERN_META } },
  };
}
