import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenStore, type StoredTokens } from '../src/store.ts';

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'mcp-lab-client-store-'));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const tokens = (resource: string, at = 'a'): StoredTokens => ({
  issuer: 'https://as.example.com',
  client_id: 'c',
  resource,
  access_token: at,
  token_type: 'bearer',
  requested_scope: ['notes:read'],
});

describe('token store', () => {
  it('writes the file with mode 0600 in a directory with mode 0700', async () => {
    const dir = join(base, 'nested', 'store');
    const store = new TokenStore(dir);
    await store.putTokens(tokens('https://rs.example.com/mcp'));
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('keys tokens by (issuer, client_id, resource)', async () => {
    const store = new TokenStore(base);
    await store.putTokens(tokens('https://rs.example.com/mcp', 'one'));
    await store.putTokens(tokens('https://rs.example.com/sse', 'two'));
    await store.putTokens(tokens('https://rs.example.com/mcp', 'three'));
    expect((await store.getTokens('https://as.example.com', 'c', 'https://rs.example.com/mcp'))?.access_token).toBe('three');
    expect((await store.getTokens('https://as.example.com', 'c', 'https://rs.example.com/sse'))?.access_token).toBe('two');
    expect(await store.getTokens('https://as.example.com', 'other', 'https://rs.example.com/mcp')).toBeUndefined();
    expect(await store.getTokens('https://other.example.com', 'c', 'https://rs.example.com/mcp')).toBeUndefined();
  });

  it('logout forgets the tokens of one resource, or all, and keeps registrations', async () => {
    const store = new TokenStore(base);
    await store.putTokens(tokens('https://rs.example.com/mcp'));
    await store.putTokens(tokens('https://rs.example.com/sse'));
    await store.putRegistration({ issuer: 'https://as.example.com', client_id: 'c', token_endpoint_auth_method: 'none', redirect_uris: [], registered_at: 'now' });
    expect(await store.forgetTokens('https://rs.example.com/mcp')).toBe(1);
    expect(await store.getTokens('https://as.example.com', 'c', 'https://rs.example.com/sse')).toBeDefined();
    expect(await store.forgetTokens()).toBe(1);
    expect(await store.getRegistration('https://as.example.com')).toBeDefined();
  });

  it('keeps the file private after an update', async () => {
    const store = new TokenStore(base);
    await store.putTokens(tokens('https://rs.example.com/mcp'));
    await store.forgetTokens();
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
  });

  it('withLock serialises holders across store instances (as across processes) and frees the lock after a throw', async () => {
    const a = new TokenStore(base);
    const b = new TokenStore(base);
    const order: string[] = [];
    const hold = (s: TokenStore, name: string) =>
      s.withLock(async () => {
        order.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 150));
        order.push(`${name} out`);
      });
    await Promise.all([hold(a, 'a'), hold(b, 'b')]);
    expect([order.join(' ') === 'a in a out b in b out', order.join(' ') === 'b in b out a in a out']).toContain(true);
    await expect(a.withLock(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(b.withLock(async () => 'free')).resolves.toBe('free');
  });

  it('with the lock off (the race test switch) holders overlap', async () => {
    const a = new TokenStore(base, { refreshLock: false });
    const order: string[] = [];
    const hold = (name: string) =>
      a.withLock(async () => {
        order.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name} out`);
      });
    await Promise.all([hold('a'), hold('b')]);
    expect(order.slice(0, 2)).toEqual(['a in', 'b in']);
  });
});
