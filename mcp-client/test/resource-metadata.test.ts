import { describe, expect, it } from 'vitest';
import { createStepContext } from '../src/step-context.ts';
import { discoverResourceMetadata } from '../src/steps/resource-metadata.ts';
import { fakeNetwork, json } from './fake-http.ts';

const MCP = 'https://rs.example.com/mcp';
const SUFFIXED = 'https://rs.example.com/.well-known/oauth-protected-resource/mcp';
const ROOT = 'https://rs.example.com/.well-known/oauth-protected-resource';
const prm = (resource: string, servers = ['https://as.example.com']) => json({ resource, authorization_servers: servers });

describe('resource-metadata: where the document is looked for', () => {
  it('uses the challenge URL first', async () => {
    const net = fakeNetwork();
    net.on('GET', 'https://rs.example.com/custom-prm', prm(MCP));
    const r = await discoverResourceMetadata(createStepContext(net.fetch), MCP, 'https://rs.example.com/custom-prm');
    expect(r.via).toBe('challenge');
    expect(r.issuer).toBe('https://as.example.com');
    expect(net.calls()).toEqual(['GET https://rs.example.com/custom-prm']);
  });

  it('without a challenge URL tries the path-suffixed URI, then the root', async () => {
    const net = fakeNetwork();
    net.on('GET', ROOT, prm('https://rs.example.com'));
    const r = await discoverResourceMetadata(createStepContext(net.fetch), MCP, undefined);
    expect(net.calls()).toEqual([`GET ${SUFFIXED}`, `GET ${ROOT}`]);
    expect(r.url).toBe(ROOT);
    expect(r.via).toBe('well-known');
  });

  it('falls back to the well-known URIs when the challenge URL answers 404', async () => {
    const net = fakeNetwork();
    net.on('GET', SUFFIXED, prm(MCP));
    const r = await discoverResourceMetadata(createStepContext(net.fetch), MCP, 'https://rs.example.com/gone');
    expect(net.calls()).toEqual(['GET https://rs.example.com/gone', `GET ${SUFFIXED}`]);
    expect(r.url).toBe(SUFFIXED);
  });

  it('fails with a clear error when no location has the document', async () => {
    const net = fakeNetwork();
    await expect(discoverResourceMetadata(createStepContext(net.fetch), MCP, undefined)).rejects.toThrow(/no protected resource metadata found/);
  });
});

describe('resource-metadata: refusals', () => {
  it('refuses a document for another resource (and does not look elsewhere)', async () => {
    const net = fakeNetwork();
    net.on('GET', 'https://rs.example.com/prm', prm('https://evil.example.com/mcp'));
    net.on('GET', SUFFIXED, prm(MCP));
    const ctx = createStepContext(net.fetch);
    await expect(discoverResourceMetadata(ctx, MCP, 'https://rs.example.com/prm')).rejects.toThrow(/resource covers the server URL/);
    expect(net.calls()).toEqual(['GET https://rs.example.com/prm']);
    expect(ctx.checks.find((c) => !c.ok)?.name).toBe('resource covers the server URL');
  });

  it('refuses a sibling path that only shares a prefix', async () => {
    const net = fakeNetwork();
    net.on('GET', SUFFIXED, prm('https://rs.example.com/mc'));
    await expect(discoverResourceMetadata(createStepContext(net.fetch), MCP, undefined)).rejects.toThrow(/resource covers/);
  });

  it('refuses metadata without authorization servers', async () => {
    const net = fakeNetwork();
    net.on('GET', SUFFIXED, prm(MCP, []));
    await expect(discoverResourceMetadata(createStepContext(net.fetch), MCP, undefined)).rejects.toThrow(/authorization_servers/);
  });

  it('refuses a plain-http resource_metadata URL on a non-loopback host', async () => {
    const net = fakeNetwork();
    await expect(discoverResourceMetadata(createStepContext(net.fetch), MCP, 'http://rs.example.com/prm')).rejects.toThrow(/https/);
    expect(net.seen).toHaveLength(0);
  });
});
