/**
 * Which era of MCP the client speaks over Streamable HTTP (`--protocol-era`), and the official SDK that speaks it:
 * - `legacy` (the default for now): 2025-11-25 `initialize` and a session, with the v1 SDK (`@modelcontextprotocol/sdk`);
 * - `modern`: 2026-07-28 only, stateless (per-request `_meta`, `Mcp-Method` / `Mcp-Name`), with the v2 SDK
 *   (`@modelcontextprotocol/client`) pinned to that revision;
 * - `auto`: the v2 SDK's negotiation — probe with `server/discover`, stay modern on a modern answer,
 *   fall back to `initialize` otherwise (MCP 2026-07-28 Versioning §Backward Compatibility).
 * HTTP+SSE (`--transport sse`) is 2024-11-05 and always legacy.
 */
import type { StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { FetchLike } from '../http.ts';
import type { TransportKind } from './probe.ts';

export const PROTOCOL_ERAS = ['auto', 'modern', 'legacy'] as const;
export type ProtocolEra = (typeof PROTOCOL_ERAS)[number];

/** The modern revision `--protocol-era modern` pins. */
export const MODERN_REVISION = '2026-07-28';

/** The era a run's MCP connection uses, given the option and the transport (HTTP+SSE has only the legacy era). */
export function effectiveEra(era: ProtocolEra, transport: TransportKind): ProtocolEra {
  return transport === 'sse' ? 'legacy' : era;
}

/** A tools/call result as both SDKs return it (the fields the CLI reads). */
export interface ToolCallResult {
  readonly content?: unknown;
  readonly structuredContent?: unknown;
  readonly isError?: boolean;
  readonly [key: string]: unknown;
}

/** What the MCP steps use of a client, whichever SDK it comes from. */
export interface McpClientLike {
  connect(transport: Transport): Promise<void>;
  listTools(): Promise<{ tools: Array<{ name: string; description?: string }> }>;
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<ToolCallResult>;
  getServerVersion(): { name: string; version: string } | undefined;
  close(): Promise<void>;
  onerror?: ((error: Error) => void) | undefined;
}

export interface ModernSdk {
  /** A v2 client negotiating per `era` (`auto` or `modern`). */
  createClient(era: Exclude<ProtocolEra, 'legacy'>): McpClientLike & { getNegotiatedProtocolVersion?(): string | undefined };
  createTransport(url: URL, fetch: FetchLike): ModernTransport;
}

let modernLoad: Promise<ModernSdk> | undefined;

/** Loads the v2 SDK client (only when a modern or auto run reaches MCP; memoized). */
export function loadModernSdk(): Promise<ModernSdk> {
  modernLoad ??= import('@modelcontextprotocol/client').then((m) => ({
    createClient: (era) =>
      new m.Client(
        { name: 'mcp-lab-client', version: '0.1.0' },
        { versionNegotiation: { mode: era === 'modern' ? { pin: MODERN_REVISION } : 'auto' } },
      ) as unknown as McpClientLike,
    createTransport: (url, fetch) => new m.StreamableHTTPClientTransport(url, { fetch }),
  }));
  return modernLoad;
}

/** The era a connected client ended up in, for the trace: a 2026-07-28 revision, or the 2025 fallback. */
export function negotiatedEra(version: string | undefined): { era: 'modern' | 'legacy'; version: string | undefined } {
  return { era: version !== undefined && version >= MODERN_REVISION ? 'modern' : 'legacy', version };
}
