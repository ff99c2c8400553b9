/**
 * Canonical resource identifiers (RFC 8707 §2, MCP "Canonical Server URI").
 */

/**
 * The canonical form of an MCP server URL: lower-case scheme and host (URL does that), no fragment, no query,
 * and no trailing slash unless the path is only "/" — which is dropped too, as the MCP spec recommends.
 * @throws TypeError for anything that is not an absolute http(s) URL.
 */
export function canonicalResource(url: string | URL): string {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`not an http(s) URL: ${String(url)}`);
  u.hash = '';
  u.search = '';
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}${path}`;
}

/**
 * Whether a Protected Resource Metadata `resource` covers the MCP server URL the client dialed: same origin,
 * and the resource's path is the server's path or a path-segment prefix of it (RFC 9728 §3.3, MCP spec).
 */
export function resourceCovers(resource: string, serverUrl: string): boolean {
  let r: string;
  let s: string;
  try {
    r = canonicalResource(resource);
    s = canonicalResource(serverUrl);
  } catch {
    return false;
  }
  return s === r || s.startsWith(`${r}/`);
}
