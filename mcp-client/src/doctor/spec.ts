/**
 * Links to the documents the checks rest on: one place for the base URLs, so every check cites the same revision.
 */
import type { SpecReference } from './check.ts';

const MCP = 'https://modelcontextprotocol.io/specification/2026-07-28';

/** A section of an RFC, e.g. `rfc(9728, '3.3')` → "RFC 9728 §3.3". */
export function rfc(n: number, section: string): SpecReference {
  return { section: `RFC ${n} §${section}`, url: `https://www.rfc-editor.org/rfc/rfc${n}#section-${section}` };
}

/** A section of the MCP 2026-07-28 specification, by page path and heading anchor. */
export function mcp(page: 'basic/authorization' | 'basic/transports' | 'basic/versioning' | 'server/discover', heading: string, anchor: string): SpecReference {
  return { section: `MCP 2026-07-28 ${page.split('/')[1]}: ${heading}`, url: `${MCP}/${page}#${anchor}` };
}
