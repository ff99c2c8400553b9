/** JWKS refetch discipline, log hygiene, and shutdown with open streams. */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { INIT_BODY, makeKeys, MCP_HEADERS, mint, PUBLIC_URL, startJwksServer, testApp } from './helpers.ts';
import type { JwksServer, Keys } from './helpers.ts';

let keys: Keys;
let rotated: Keys;
let served: Keys[];
let jwks: JwksServer;

beforeAll(async () => {
  keys = await makeKeys('k1');
  rotated = await makeKeys('k2');
  served = [keys];
  jwks = await startJwksServer(() => served.map((k) => k.publicJwk));
});
afterAll(async () => {
  await jwks?.close();
});

describe('JWKS', () => {
  it('picks up a rotated key on an unknown kid (cooldown elapsed)', async () => {
    served = [keys];
    const app = await testApp({ MCP_JWKS_URL: `${jwks.url}/jwks`, MCP_JWKS_COOLDOWN_MS: '0' });
    try {
      const h = (t: string) => ({ ...MCP_HEADERS, authorization: `Bearer ${t}` });
      expect((await app.inject({ method: 'POST', url: '/mcp', headers: h(await mint(keys, {}, { kid: 'k1' })), payload: INIT_BODY })).statusCode).toBe(200);
      served = [keys, rotated];
      expect((await app.inject({ method: 'POST', url: '/mcp', headers: h(await mint(rotated, {}, { kid: 'k2' })), payload: INIT_BODY })).statusCode).toBe(200);
    } finally {
      await app.close();
      served = [keys];
    }
  });

  it('refetches the JWKS once, not for every unknown kid, within the cooldown', async () => {
    served = [keys];
    const app = await testApp({ MCP_JWKS_URL: `${jwks.url}/jwks`, MCP_JWKS_COOLDOWN_MS: '600000' });
    try {
      const good = await mint(keys, {}, { kid: 'k1' });
      await app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${good}` }, payload: INIT_BODY });
      const before = jwks.requests();
      for (let i = 0; i < 5; i++) {
        const bogus = await mint(rotated, {}, { kid: `unknown-${i}` });
        const res = await app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${bogus}` }, payload: INIT_BODY });
        expect(res.statusCode).toBe(401);
      }
      // The first unknown kid may be a key just published: one refetch at once; the rest wait out the cooldown.
      expect(jwks.requests() - before).toBe(1);
    } finally {
      await app.close();
    }
  });
});

describe('logging', () => {
  it('never writes a token or a cookie to the log', async () => {
    const lines: string[] = [];
    const app = await testApp(
      { MCP_JWKS_URL: `${jwks.url}/jwks`, MCP_LOG_LEVEL: 'trace' },
      { logStream: { write: (line: string) => lines.push(line) } },
    );
    try {
      const token = await mint(keys, {}, { kid: 'k1' });
      const session = await app.inject({ method: 'POST', url: '/session', headers: { authorization: `Bearer ${token}` } });
      const cookie = String(session.headers['set-cookie']).split(';')[0]!;
      await app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, payload: INIT_BODY });
      await app.inject({ method: 'POST', url: `/mcp?access_token=${token}`, headers: MCP_HEADERS, payload: INIT_BODY });
      await app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, cookie, origin: PUBLIC_URL }, payload: INIT_BODY });
      const log = lines.join('');
      expect(lines.length).toBeGreaterThan(0);
      expect(log).not.toContain(token.split('.')[2]!);
      expect(log).not.toContain(cookie.split('=')[1]!);
    } finally {
      await app.close();
    }
  });
});

describe('shutdown', () => {
  it('closes while an SSE stream is open', async () => {
    const port = await freePort();
    const app = await testApp({ MCP_JWKS_URL: `${jwks.url}/jwks`, MCP_PUBLIC_URL: `http://127.0.0.1:${port}` });
    await app.listen({ host: '127.0.0.1', port });
    const token = await mint(keys, { aud: `http://127.0.0.1:${port}/sse` }, { kid: 'k1' });
    const res = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/sse`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await app.close();
    // The stream was ended by the server, so reading it finishes.
    await res.text().catch(() => '');
    expect(app.server.listening).toBe(false);
  });
});
