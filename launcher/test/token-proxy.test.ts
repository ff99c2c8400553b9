/**
 * The conformance front's token-injecting proxy, against a real loopback upstream: it adds the bearer only when the
 * client sent none, passes every other header through, and relays a streamed response as it arrives.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTokenProxy, type TokenProxy } from '../src/token-proxy.ts';

let upstream: Server;
let proxy: TokenProxy;
let seen: IncomingHttpHeaders[] = [];
let token = 'first-token';

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      setTimeout(() => res.end('data: two\n\n'), 50);
      return;
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes' }).end(JSON.stringify({ echoed: body })));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await startTokenProxy({ target: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, token: () => token });
});
afterAll(async () => {
  await proxy?.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

describe('token-injecting proxy', () => {
  it('listens on loopback only', () => {
    expect(new URL(proxy.url).hostname).toBe('127.0.0.1');
  });

  it('adds the current token to a request without credentials, and forwards body, status and headers', async () => {
    seen = [];
    const res = await fetch(`${proxy.url}/mcp`, { method: 'POST', headers: { origin: 'http://127.0.0.1:9', 'mcp-method': 'tools/list' }, body: 'hello' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-upstream')).toBe('yes');
    expect(await res.json()).toEqual({ echoed: 'hello' });
    expect(seen[0]).toMatchObject({ authorization: 'Bearer first-token', origin: 'http://127.0.0.1:9', 'mcp-method': 'tools/list' });
  });

  it('uses a refreshed token from the next request on', async () => {
    seen = [];
    token = 'second-token';
    await (await fetch(`${proxy.url}/mcp`, { method: 'POST', body: '{}' })).text();
    expect(seen[0]?.authorization).toBe('Bearer second-token');
  });

  it('leaves a request that carries its own Authorization untouched', async () => {
    seen = [];
    await (await fetch(`${proxy.url}/mcp`, { method: 'POST', headers: { authorization: 'Bearer the-clients-own' }, body: '{}' })).text();
    expect(seen[0]?.authorization).toBe('Bearer the-clients-own');
  });

  it('relays a stream event by event', async () => {
    const res = await fetch(`${proxy.url}/stream`);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe('data: one\n\n');
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe('data: two\n\n');
  });
});
