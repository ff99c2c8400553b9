/** DNS-rebinding protection on `Host` as well as `Origin`, and `iat` in the future refused. */
import { describe, expect, it } from 'vitest';
import { hostValue, loadConfig } from '../src/config.ts';
import { INIT_BODY, ISSUER, MCP_HEADERS, mint, PUBLIC_URL, testApp } from './helpers.ts';
import { useTestRs } from './use-rs.ts';

const PRM_MCP = `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp`;

const rs = useTestRs({}, { tokens: { alice: {} } });

const init = (headers: Record<string, string>) =>
  rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}`, ...headers }, payload: INIT_BODY });

describe('Host check (DNS rebinding)', () => {
  it('refuses a foreign Host on /mcp with 403 forbidden_host, even with a valid token and no Origin', async () => {
    const res = await init({ host: 'evil.example:3999' });
    expect(res.statusCode).toBe(403);
    // On the MCP endpoint the refusal is a JSON-RPC error; the OAuth-style code travels in data.
    expect(res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -31403, data: { error: 'forbidden_host', error_description: 'host "evil.example:3999" is not allowed' } } });
  });

  it('refuses a foreign Host on GET /sse and POST /session', async () => {
    const sse = await rs.app.inject({ method: 'GET', url: '/sse', headers: { host: 'rebound.example', authorization: `Bearer ${rs.tokens.alice}` } });
    expect(sse.statusCode).toBe(403);
    const session = await rs.app.inject({ method: 'POST', url: '/session', headers: { host: 'rebound.example', authorization: `Bearer ${rs.tokens.alice}` } });
    expect(session.statusCode).toBe(403);
    expect(session.headers['set-cookie']).toBeUndefined();
  });

  it('refuses the public host name on another port', async () => {
    expect((await init({ host: '127.0.0.1.nip.io:3999' })).statusCode).toBe(403);
    const publicHostApp = await testApp({ ...rs.jwksEnv, MCP_PUBLIC_URL: 'http://mcp.example:3999' });
    try {
      const res = await publicHostApp.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, host: 'mcp.example:4000' }, payload: INIT_BODY });
      expect(res.statusCode).toBe(403);
    } finally {
      await publicHostApp.close();
    }
  });

  it('accepts the public host and loopback names on any port', async () => {
    for (const host of ['127.0.0.1:3999', 'localhost:80', 'localhost', '[::1]:1234']) {
      expect((await init({ host })).statusCode, host).toBe(200);
    }
  });

  it('accepts the hosts of MCP_ALLOWED_HOSTS (a name alone allows every port) and only them', async () => {
    const proxied = await testApp({ ...rs.jwksEnv, MCP_ALLOWED_HOSTS: 'mcp.example, other.example:8443' });
    try {
      const h = (host: string) => proxied.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, host, authorization: `Bearer ${rs.tokens.alice}` }, payload: INIT_BODY });
      expect((await h('mcp.example')).statusCode).toBe(200);
      expect((await h('MCP.example:443')).statusCode).toBe(200);
      expect((await h('other.example:8443')).statusCode).toBe(200);
      expect((await h('other.example:8444')).statusCode).toBe(403);
      expect((await h('localhost')).statusCode).toBe(403);
    } finally {
      await proxied.close();
    }
  });

  it('leaves the metadata documents readable from any Host (public, nothing to rebind to)', async () => {
    const res = await rs.app.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource/mcp', headers: { host: 'evil.example' } });
    expect(res.statusCode).toBe(200);
  });

  it('reads host values as a Host header carries them', () => {
    expect(hostValue('Example.COM:8080')).toBe('example.com:8080');
    expect(hostValue('example.com')).toBe('example.com');
    expect(hostValue('[::1]:80')).toBe('[::1]:80');
    expect(hostValue('user@example.com')).toBeUndefined();
    expect(hostValue('example.com/path')).toBeUndefined();
    expect(() => loadConfig({ MCP_ISSUER: ISSUER, MCP_ALLOWED_HOSTS: 'ok.example, bad/host' })).toThrow(/MCP_ALLOWED_HOSTS: not a host or host:port: "bad\/host"/);
  });
});

describe('iat in the future', () => {
  it('refuses a token issued beyond the clock skew in the future with 401 invalid_token', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const future = await mint(rs.keys, { iat: nowS + 10 * 365 * 86_400, exp: nowS + 10 * 365 * 86_400 + 300 });
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${future}` }, payload: INIT_BODY });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer error="invalid_token", error_description="the access token's 'iat' claim is in the future", resource_metadata="${PRM_MCP}"`,
    );
  });

  it('refuses iat just past the skew, and accepts it within', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const past = await mint(rs.keys, { iat: nowS + 45 });
    expect((await init({ authorization: `Bearer ${past}` })).statusCode).toBe(401);
    const within = await mint(rs.keys, { iat: nowS + 20 });
    expect((await init({ authorization: `Bearer ${within}` })).statusCode).toBe(200);
  });
});

describe('per-subject rate limit', () => {
  it('refuses requests past MCP_RATE_LIMIT_BURST with 429, Retry-After and a JSON-RPC error; another user is not limited; it refills at MCP_RATE_LIMIT_PER_S', async () => {
    let t = Date.now();
    const limited = await testApp({ ...rs.jwksEnv, MCP_RATE_LIMIT_PER_S: '2', MCP_RATE_LIMIT_BURST: '3' }, { now: () => t });
    try {
      const mallory = await mint(rs.keys, { sub: 'mallory' });
      const bob = await mint(rs.keys, { sub: 'bob' });
      const hit = (tok: string) =>
        limited.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${tok}` }, payload: INIT_BODY });
      for (let i = 0; i < 3; i++) expect((await hit(mallory)).statusCode).toBe(200);
      const refused = await hit(mallory);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json()).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32000, message: 'too many requests: at most 2 per second per user; retry after 1 s', data: { reason: 'rate_limited' } },
      });
      expect((await hit(bob)).statusCode).toBe(200);
      t += 500;
      expect((await hit(mallory)).statusCode).toBe(200);
      expect((await hit(mallory)).statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('answers a rate-limited POST /session with an OAuth-style 429 body', async () => {
    const limited = await testApp({ ...rs.jwksEnv, MCP_RATE_LIMIT_PER_S: '1', MCP_RATE_LIMIT_BURST: '1' }, { now: () => 0 });
    try {
      const tok = await mint(rs.keys, { sub: 'cookie-storm', iat: 0, exp: 300 });
      expect((await limited.inject({ method: 'POST', url: '/session', headers: { authorization: `Bearer ${tok}` } })).statusCode).toBe(204);
      const refused = await limited.inject({ method: 'POST', url: '/session', headers: { authorization: `Bearer ${tok}` } });
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toEqual({ error: 'rate_limited', error_description: 'too many requests: at most 1 per second per user; retry after 1 s' });
    } finally {
      await limited.close();
    }
  });
});
