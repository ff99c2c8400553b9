/**
 * A check module: one concern, its check definitions, and the code that probes the server and reports a verdict
 * for each of them (every definition of the module gets exactly one result per run).
 */
import type { CheckDefinition } from './check.ts';
import type { DoctorContext } from './context.ts';

export interface CheckModule {
  readonly name: string;
  readonly checks: readonly CheckDefinition[];
  run(ctx: DoctorContext): Promise<void>;
}

/** Reports not-applicable with one reason for every check of `checks` (a prerequisite is missing). */
export function reportAllNotApplicable(ctx: DoctorContext, checks: readonly CheckDefinition[], reason: string): void {
  for (const def of checks) ctx.report(def, 'not-applicable', reason);
}

/** The body of a JSON-RPC request as the doctor sends it (no credentials; callers add headers). */
export function jsonRpcInit(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  };
}

/** The 2025-era first request: `initialize` (MCP 2025-11-25 lifecycle). */
export const INITIALIZE_REQUEST = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-lab-client-doctor', version: '0.1.0' } },
} as const;

/** The 2026-07-28 discovery request: `server/discover` with the per-request `_meta` (MCP 2026-07-28 server/discover). */
export const DISCOVER_REQUEST = {
  jsonrpc: '2.0',
  id: 'doctor-discover',
  method: 'server/discover',
  params: {
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'mcp-lab-client-doctor', version: '0.1.0' },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
} as const;

/** Headers a 2026-07-28 request carries on Streamable HTTP. */
export const DISCOVER_HEADERS = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' } as const;
