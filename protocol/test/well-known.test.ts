/**
 * Well-known URL construction: RFC 8414 §3.1 / RFC 9728 §3.1 path insertion, and the order in which an MCP
 * client tries the metadata locations.
 */
import { describe, expect, it } from 'vitest';
import { authorizationServerMetadataUrls, insertWellKnown, protectedResourceMetadataUrls } from '../src/index.ts';

describe('insertWellKnown', () => {
  it.each<[string, string | URL, string, string]>([
    ['an origin', 'https://as.example', 'oauth-authorization-server', 'https://as.example/.well-known/oauth-authorization-server'],
    ['an origin with "/"', 'https://as.example/', 'oauth-authorization-server', 'https://as.example/.well-known/oauth-authorization-server'],
    ['one path segment', 'https://rs.example/mcp', 'oauth-protected-resource', 'https://rs.example/.well-known/oauth-protected-resource/mcp'],
    ['a terminating slash removed', 'https://rs.example/mcp/', 'oauth-protected-resource', 'https://rs.example/.well-known/oauth-protected-resource/mcp'],
    ['several segments', 'http://127.0.0.1:8080/realms/mcp-lab', 'openid-configuration', 'http://127.0.0.1:8080/.well-known/openid-configuration/realms/mcp-lab'],
    ['a port kept, a default port dropped', 'https://rs.example:443/mcp', 'oauth-protected-resource', 'https://rs.example/.well-known/oauth-protected-resource/mcp'],
    ['query and fragment dropped', 'https://rs.example/mcp?x=1#f', 'oauth-protected-resource', 'https://rs.example/.well-known/oauth-protected-resource/mcp'],
    ['a URL object', new URL('http://127.0.0.1:3000/sse'), 'oauth-protected-resource', 'http://127.0.0.1:3000/.well-known/oauth-protected-resource/sse'],
    ['host case normalized, path case kept', 'https://RS.Example/MCP', 'oauth-protected-resource', 'https://rs.example/.well-known/oauth-protected-resource/MCP'],
  ])('handles %s', (_name, url, suffix, expected) => {
    expect(insertWellKnown(url, suffix)).toBe(expected);
  });

  it('throws a TypeError for a relative URL', () => {
    expect(() => insertWellKnown('/mcp', 'oauth-protected-resource')).toThrow(TypeError);
  });
});

describe('protectedResourceMetadataUrls (MCP order: path-suffixed, then root)', () => {
  it.each<[string, string, string[]]>([
    [
      'a server with a path',
      'http://127.0.0.1:3000/mcp',
      ['http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp', 'http://127.0.0.1:3000/.well-known/oauth-protected-resource'],
    ],
    [
      'a server with a trailing slash',
      'http://127.0.0.1:3000/mcp/',
      ['http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp', 'http://127.0.0.1:3000/.well-known/oauth-protected-resource'],
    ],
    [
      'a nested path',
      'https://rs.example/tenant/a/mcp',
      ['https://rs.example/.well-known/oauth-protected-resource/tenant/a/mcp', 'https://rs.example/.well-known/oauth-protected-resource'],
    ],
    ['a server at the origin', 'https://rs.example', ['https://rs.example/.well-known/oauth-protected-resource']],
    ['a server at "/"', 'https://rs.example/', ['https://rs.example/.well-known/oauth-protected-resource']],
    ['a server at "/" with a query', 'https://rs.example/?x=1', ['https://rs.example/.well-known/oauth-protected-resource']],
  ])('for %s', (_name, serverUrl, expected) => {
    expect(protectedResourceMetadataUrls(serverUrl)).toEqual(expected);
  });
});

describe('authorizationServerMetadataUrls (MCP order)', () => {
  it.each<[string, string, string[]]>([
    [
      'an issuer without a path: RFC 8414, then OIDC',
      'http://127.0.0.1:4000',
      ['http://127.0.0.1:4000/.well-known/oauth-authorization-server', 'http://127.0.0.1:4000/.well-known/openid-configuration'],
    ],
    [
      'an issuer of "/" only',
      'https://as.example/',
      ['https://as.example/.well-known/oauth-authorization-server', 'https://as.example/.well-known/openid-configuration'],
    ],
    [
      'an issuer with a path: RFC 8414 insertion, OIDC insertion, OIDC appending',
      'http://127.0.0.1:5556/dex',
      [
        'http://127.0.0.1:5556/.well-known/oauth-authorization-server/dex',
        'http://127.0.0.1:5556/.well-known/openid-configuration/dex',
        'http://127.0.0.1:5556/dex/.well-known/openid-configuration',
      ],
    ],
    [
      'an issuer with several segments',
      'http://127.0.0.1:8080/realms/mcp-lab',
      [
        'http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/mcp-lab',
        'http://127.0.0.1:8080/.well-known/openid-configuration/realms/mcp-lab',
        'http://127.0.0.1:8080/realms/mcp-lab/.well-known/openid-configuration',
      ],
    ],
    [
      'an issuer with a trailing slash',
      'https://as.example/tenant/',
      [
        'https://as.example/.well-known/oauth-authorization-server/tenant',
        'https://as.example/.well-known/openid-configuration/tenant',
        'https://as.example/tenant/.well-known/openid-configuration',
      ],
    ],
  ])('for %s', (_name, issuer, expected) => {
    expect(authorizationServerMetadataUrls(issuer)).toEqual(expected);
  });
});
