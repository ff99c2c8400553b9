/**
 * Canonical resource identifiers (RFC 8707 §2, MCP "Canonical Server URI") and the RFC 9728 §3.3 check that a
 * metadata document's `resource` covers the server the client dialed.
 */
import { describe, expect, it } from 'vitest';
import { canonicalResource, resourceCovers } from '../src/index.ts';

describe('canonicalResource', () => {
  it.each<[string, string | URL, string]>([
    ['an origin', 'http://127.0.0.1:3000', 'http://127.0.0.1:3000'],
    ['an origin with "/" (dropped)', 'http://127.0.0.1:3000/', 'http://127.0.0.1:3000'],
    ['a path', 'https://rs.example/mcp', 'https://rs.example/mcp'],
    ['a trailing slash removed', 'https://rs.example/mcp/', 'https://rs.example/mcp'],
    ['several trailing slashes removed', 'https://rs.example/mcp//', 'https://rs.example/mcp'],
    ['scheme and host lower-cased', 'HTTPS://RS.Example/mcp', 'https://rs.example/mcp'],
    ['path case kept', 'https://rs.example/MCP', 'https://rs.example/MCP'],
    ['a default port dropped', 'https://rs.example:443/mcp', 'https://rs.example/mcp'],
    ['a non-default port kept', 'http://rs.example:8443/mcp', 'http://rs.example:8443/mcp'],
    ['query and fragment dropped', 'https://rs.example/mcp?x=1#frag', 'https://rs.example/mcp'],
    ['dot segments resolved', 'https://rs.example/a/../mcp', 'https://rs.example/mcp'],
    ['a URL object', new URL('http://127.0.0.1:3000/sse/'), 'http://127.0.0.1:3000/sse'],
  ])('canonicalizes %s', (_name, input, expected) => {
    expect(canonicalResource(input)).toBe(expected);
  });

  it.each([
    ['a relative URL', '/mcp'],
    ['not a URL', 'rs.example'],
    ['a non-http scheme', 'urn:example:mcp'],
    ['a file URL', 'file:///tmp/mcp'],
  ])('throws a TypeError for %s', (_name, input) => {
    expect(() => canonicalResource(input)).toThrow(TypeError);
  });
});

describe('resourceCovers', () => {
  it.each<[string, string, string, boolean]>([
    ['the same URL', 'http://127.0.0.1:3000/mcp', 'http://127.0.0.1:3000/mcp', true],
    ['the origin covering a path', 'http://127.0.0.1:3000', 'http://127.0.0.1:3000/mcp', true],
    ['a prefix ending on a segment boundary', 'https://rs.example/tenant', 'https://rs.example/tenant/mcp', true],
    ['a deeper server path', 'https://rs.example/mcp', 'https://rs.example/mcp/v1/x', true],
    ['/mcpx is not covered by /mcp', 'https://rs.example/mcp', 'https://rs.example/mcpx', false],
    ['/mcp-admin is not covered by /mcp', 'https://rs.example/mcp', 'https://rs.example/mcp-admin', false],
    ['a longer resource does not cover a shorter server path', 'https://rs.example/mcp/v1', 'https://rs.example/mcp', false],
    ['a sibling path', 'https://rs.example/sse', 'https://rs.example/mcp', false],
    ['another host', 'https://rs.example/mcp', 'https://evil.example/mcp', false],
    ['a host that extends the resource host', 'https://rs.example', 'https://rs.example.evil.com/mcp', false],
    ['another port', 'http://127.0.0.1:3000/mcp', 'http://127.0.0.1:3001/mcp', false],
    ['another scheme', 'https://rs.example/mcp', 'http://rs.example/mcp', false],
    ['case differences in scheme and host', 'HTTPS://RS.EXAMPLE/mcp', 'https://rs.example/mcp', true],
    ['case differences in the path', 'https://rs.example/MCP', 'https://rs.example/mcp', false],
    ['a trailing slash on the resource', 'https://rs.example/mcp/', 'https://rs.example/mcp', true],
    ['a trailing slash on the server URL', 'https://rs.example/mcp', 'https://rs.example/mcp/', true],
    ['an explicit default port', 'https://rs.example:443/mcp', 'https://rs.example/mcp', true],
    ['a query on the server URL', 'https://rs.example/mcp', 'https://rs.example/mcp?session=1', true],
    ['dot segments escaping the resource path', 'https://rs.example/mcp', 'https://rs.example/mcp/../admin', false],
    ['a resource that is not a URL', 'not a url', 'https://rs.example/mcp', false],
    ['a server URL that is not http(s)', 'https://rs.example/mcp', 'ftp://rs.example/mcp', false],
  ])('%s', (_name, resource, serverUrl, covered) => {
    expect(resourceCovers(resource, serverUrl)).toBe(covered);
  });
});
