/**
 * MCP requests as tests send them by hand: the initialize request, the headers Streamable HTTP asks for (the client
 * must accept both JSON and an event stream), and a tools/call.
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
