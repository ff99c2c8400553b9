/**
 * RFC 6750 §3 / MCP challenges: exact status, WWW-Authenticate header and error code for each failure.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWwwAuthenticate, findChallenge } from '@mcp-lab/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { b64url, INIT_BODY, ISSUER, makeKeys, MCP_HEADERS, mint, PUBLIC_URL, toolCall, openSession, mcpError } from './helpers.ts';
import type { Keys } from './helpers.ts';
import { useTestRs } from './use-rs.ts';

const PRM_MCP = `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp`;
const PRM_SSE = `${PUBLIC_URL}/.well-known/oauth-protected-resource/sse`;

function invalidToken(description: string, prm = PRM_MCP): string {
  return `Bearer error="invalid_token", error_description="${description}", resource_metadata="${prm}"`;
}
function invalidRequest(description: string, prm = PRM_MCP): string {
  return `Bearer error="invalid_request", error_description="${description}", resource_metadata="${prm}"`;
}

const rs = useTestRs();
let otherKeys: Keys;
beforeAll(async () => {
  otherKeys = await makeKeys('other-kid');
});

/** Builds a token by hand (header and payload as given, signature from `sign`). */
function handmade(header: object, payload: object, sign: (input: string) => string = () => ''): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${sign(input)}`;
}

const nowS = () => Math.floor(Date.now() / 1000);

interface Case {
  readonly name: string;
  readonly authorization: () => Promise<string | undefined>;
  readonly status: number;
  readonly challenge: string;
  readonly error: string;
}

const cases: Case[] = [
  {
    name: 'no credentials → 401 without error, basic scope',
    authorization: async () => undefined,
    status: 401,
    challenge: `Bearer scope="notes:read", resource_metadata="${PRM_MCP}"`,
    error: 'unauthorized',
  },
  {
    name: 'Basic scheme → 400 invalid_request',
    authorization: async () => 'Basic YWxpY2U6cGFzcw==',
    status: 400,
    challenge: invalidRequest('the Authorization scheme must be Bearer'),
    error: 'invalid_request',
  },
  {
    name: 'empty bearer token → 400 invalid_request',
    authorization: async () => 'Bearer ',
    status: 400,
    challenge: invalidRequest('malformed Bearer credentials'),
    error: 'invalid_request',
  },
  {
    name: 'token with invalid characters → 400 invalid_request',
    authorization: async () => 'Bearer abc$def"',
    status: 400,
    challenge: invalidRequest('malformed Bearer credentials'),
    error: 'invalid_request',
  },
  {
    name: 'two credentials in one header → 400 invalid_request',
    authorization: async () => `Bearer ${await mint(rs.keys)}, Bearer ${await mint(rs.keys)}`,
    status: 400,
    challenge: invalidRequest('malformed Bearer credentials'),
    error: 'invalid_request',
  },
  {
    name: 'not a JWT → 401 invalid_token',
    authorization: async () => 'Bearer opaque-token',
    status: 401,
    challenge: invalidToken('the access token is malformed or not acceptable'),
    error: 'invalid_token',
  },
  {
    name: 'expired → 401 invalid_token',
    authorization: async () => `Bearer ${await mint(rs.keys, { exp: nowS() - 120, iat: nowS() - 600 })}`,
    status: 401,
    challenge: invalidToken('the access token expired'),
    error: 'invalid_token',
  },
  {
    name: 'not yet valid (nbf beyond skew) → 401 invalid_token',
    authorization: async () => `Bearer ${await mint(rs.keys, { nbf: nowS() + 600 })}`,
    status: 401,
    challenge: invalidToken("the access token's 'nbf' claim is not acceptable"),
    error: 'invalid_token',
  },
  {
    name: 'wrong issuer → 401 invalid_token',
    authorization: async () => `Bearer ${await mint(rs.keys, { iss: 'http://127.0.0.1:4998' })}`,
    status: 401,
    challenge: invalidToken("the access token's 'iss' claim is not acceptable"),
    error: 'invalid_token',
  },
  {
    name: 'issuer with trailing slash (not exact) → 401 invalid_token',
    authorization: async () => `Bearer ${await mint(rs.keys, { iss: `${ISSUER}/` })}`,
    status: 401,
    challenge: invalidToken("the access token's 'iss' claim is not acceptable"),
    error: 'invalid_token',
  },
  {
    name: 'wrong audience → 401 invalid_token',
    authorization: async () => `Bearer ${await mint(rs.keys, { aud: 'http://127.0.0.1:9999/mcp' })}`,
    status: 401,
    challenge: invalidToken("the access token's 'aud' claim is not acceptable"),
    error: 'invalid_token',
  },
  {
    name: 'missing sub → 401 invalid_token',
    authorization: async () => `Bearer ${await mint(rs.keys, { sub: undefined })}`,
    status: 401,
    challenge: invalidToken("the access token's 'sub' claim is not acceptable"),
    error: 'invalid_token',
  },
  {
    name: 'alg none → 401 invalid_token',
    authorization: async () =>
      `Bearer ${handmade({ alg: 'none', typ: 'at+jwt' }, { iss: ISSUER, sub: 'alice', aud: `${PUBLIC_URL}/mcp`, exp: nowS() + 300 })}`,
    status: 401,
    challenge: invalidToken('the access token is signed with an algorithm that is not accepted'),
    error: 'invalid_token',
  },
  {
    name: 'HS256 signed with the public key → 401 invalid_token',
    authorization: async () => {
      const secret = JSON.stringify(rs.keys.publicJwk);
      return `Bearer ${handmade(
        { alg: 'HS256', kid: 'test-key-1', typ: 'at+jwt' },
        { iss: ISSUER, sub: 'alice', aud: `${PUBLIC_URL}/mcp`, exp: nowS() + 300, scope: 'notes:read notes:write' },
        (input) => createHmac('sha256', secret).update(input).digest('base64url'),
      )}`;
    },
    status: 401,
    challenge: invalidToken('the access token is signed with an algorithm that is not accepted'),
    error: 'invalid_token',
  },
  {
    name: 'tampered payload → 401 invalid_token',
    authorization: async () => {
      const [h, , s] = (await mint(rs.keys, { sub: 'alice' })).split('.');
      const forged = b64url(JSON.stringify({ iss: ISSUER, sub: 'bob', aud: `${PUBLIC_URL}/mcp`, exp: nowS() + 300 }));
      return `Bearer ${h}.${forged}.${s}`;
    },
    status: 401,
    challenge: invalidToken('the access token signature is invalid'),
    error: 'invalid_token',
  },
  {
    name: 'unknown kid → 401 invalid_token',
    authorization: async () => `Bearer ${await mint(otherKeys, {}, { kid: 'other-kid' })}`,
    status: 401,
    challenge: invalidToken('the access token is signed with an unknown key'),
    error: 'invalid_token',
  },
  {
    name: 'signed by another key under the known kid → 401 invalid_token',
    authorization: async () => `Bearer ${await mint(otherKeys, {}, { kid: 'test-key-1' })}`,
    status: 401,
    challenge: invalidToken('the access token signature is invalid'),
    error: 'invalid_token',
  },
  {
    name: 'ID token typ → 401 invalid_token',
    authorization: async () => `Bearer ${await mint(rs.keys, {}, { typ: 'id_token+jwt' })}`,
    status: 401,
    challenge: invalidToken('the token is not an access token (typ)'),
    error: 'invalid_token',
  },
];

describe('challenges on POST /mcp', () => {
  it.each(cases)('$name', async ({ authorization, status, challenge, error }) => {
    const auth = await authorization();
    const res = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, ...(auth !== undefined ? { authorization: auth } : {}) },
      payload: INIT_BODY,
    });
    expect(res.statusCode).toBe(status);
    expect(res.headers['www-authenticate']).toBe(challenge);
    // A JSON-RPC error with the request's id; the OAuth error code travels in data, the status picks the code.
    expect(res.json()).toMatchObject(mcpError(status === 400 ? -32600 : -31401, error, INIT_BODY.id));
    // The header is well-formed per RFC 9110 (round-trips through the shared parser).
    expect(findChallenge(parseWwwAuthenticate(challenge), 'Bearer')).toBeDefined();
  });
});

describe('challenges name the endpoint that was called', () => {
  it.each([
    { method: 'GET' as const, url: '/sse', prm: PRM_SSE },
    { method: 'POST' as const, url: '/messages?sessionId=x', prm: PRM_SSE },
    { method: 'GET' as const, url: '/mcp', prm: PRM_MCP },
    { method: 'DELETE' as const, url: '/mcp', prm: PRM_MCP },
    { method: 'POST' as const, url: '/session', prm: `${PUBLIC_URL}/.well-known/oauth-protected-resource` },
  ])('$method $url without credentials → 401 naming $prm', async ({ method, url, prm }) => {
    const res = await rs.app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: method === 'POST' ? '{}' : undefined });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer scope="notes:read", resource_metadata="${prm}"`);
  });
});

describe('more malformed requests', () => {
  it('two Authorization headers → 400 invalid_request', async () => {
    const token = await mint(rs.keys);
    const res = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: MCP_HEADERS,
      payload: INIT_BODY,
      // inject accepts raw header arrays only via the `headers` object; a repeated header is an array value.
      ...({ headers: { ...MCP_HEADERS, authorization: [`Bearer ${token}`, `Bearer ${token}`] } } as object),
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['www-authenticate']).toBe(invalidRequest('more than one Authorization header'));
  });

  it('token in the query string → 400 invalid_request', async () => {
    const token = await mint(rs.keys);
    const res = await rs.app.inject({ method: 'POST', url: `/mcp?access_token=${token}`, headers: MCP_HEADERS, payload: INIT_BODY });
    expect(res.statusCode).toBe(400);
    expect(res.headers['www-authenticate']).toBe(invalidRequest('access tokens must not be sent in the query string'));
  });
});

describe('insufficient permissions', () => {
  it('tools/call notes_add with only notes:read → 403 insufficient_scope naming notes:write', async () => {
    const token = await mint(rs.keys, { scope: 'notes:read' });
    const sid = await openSession(rs.app, token);
    const res = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid },
      payload: toolCall('notes_add', { text: 'x' }),
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_scope", error_description="this operation needs notes:write", scope="notes:write", resource_metadata="${PRM_MCP}"`,
    );
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: 2,
      error: {
        code: -31403,
        message: 'this operation needs notes:write',
        data: { error: 'insufficient_scope', error_description: 'this operation needs notes:write' },
      },
    });
  });

  it('a batch needing read and write, with no scopes → 403 naming every needed scope at once', async () => {
    const token = await mint(rs.keys, { scope: '' });
    const sid = await openSession(rs.app, token);
    const res = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid },
      payload: [toolCall('notes_list', {}, 2), toolCall('notes_delete', { id: 'x' }, 3)],
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_scope", error_description="this operation needs notes:read notes:write", scope="notes:read notes:write", resource_metadata="${PRM_MCP}"`,
    );
  });

  it('scp array claim grants permissions', async () => {
    const token = await mint(rs.keys, { scope: undefined, scp: ['notes:read'] });
    const sid = await openSession(rs.app, token);
    const res = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid },
      payload: toolCall('notes_list'),
    });
    expect(res.statusCode).toBe(200);
  });
});
