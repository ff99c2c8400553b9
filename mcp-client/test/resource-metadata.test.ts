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

  it('without a challenge URL tries the path-suffixed URI, then the root (whose resource is the origin)', async () => {
    const net = fakeNetwork();
    net.on('GET', ROOT, prm('https://rs.example.com'));
    const r = await discoverResourceMetadata(createStepContext(net.fetch), MCP, undefined);
    expect(net.calls()).toEqual([`GET ${SUFFIXED}`, `GET ${ROOT}`]);
    expect(r.url).toBe(ROOT);
    expect(r.via).toBe('well-known');
    // RFC 9728 §3.3: the root document describes the identifier it was built from, the origin — sent as published.
    expect(r.resource).toBe('https://rs.example.com');
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
    await expect(discoverResourceMetadata(ctx, MCP, 'https://rs.example.com/prm')).rejects.toThrow(/resource is identical/);
    expect(net.calls()).toEqual(['GET https://rs.example.com/prm']);
    expect(ctx.checks.find((c) => !c.ok)?.name).toBe('resource is identical to the expected resource identifier');
  });

  it('refuses a sibling path that only shares a prefix', async () => {
    const net = fakeNetwork();
    net.on('GET', SUFFIXED, prm('https://rs.example.com/mc'));
    await expect(discoverResourceMetadata(createStepContext(net.fetch), MCP, undefined)).rejects.toThrow(/resource is identical/);
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

describe('resource-metadata: the resource must be identical (RFC 9728 §3.3), and is sent as published', () => {
  const refused = async (url: string, resource: string, challenge?: string) => {
    const net = fakeNetwork();
    net.on('GET', url, prm(resource));
    const ctx = createStepContext(net.fetch);
    await expect(discoverResourceMetadata(ctx, MCP, challenge)).rejects.toThrow(/resource is identical to the expected resource identifier/);
    return ctx.checks.find((c) => !c.ok)?.detail;
  };

  it('accepts the path-suffixed document naming exactly the server URL, and sends that value', async () => {
    const net = fakeNetwork();
    net.on('GET', SUFFIXED, prm(MCP));
    const ctx = createStepContext(net.fetch);
    const r = await discoverResourceMetadata(ctx, MCP, undefined);
    expect(r.resource).toBe(MCP);
    expect(ctx.checks.find((c) => c.name === 'resource indicator to send')?.detail).toMatch(/^https:\/\/rs\.example\.com\/mcp — the resource published in this metadata/);
  });

  it('refuses a trailing slash (/mcp/ for /mcp)', async () => {
    expect(await refused(SUFFIXED, 'https://rs.example.com/mcp/')).toBe(
      'resource https://rs.example.com/mcp/; expected https://rs.example.com/mcp (the server URL this well-known URI was built from)',
    );
  });

  it('refuses a query the server URL does not have (?tenant=…)', async () => {
    await refused(SUFFIXED, 'https://rs.example.com/mcp?tenant=acme');
  });

  it('refuses the bare origin from the path-suffixed document', async () => {
    await refused(SUFFIXED, 'https://rs.example.com');
  });

  it('refuses the bare origin from a document the challenge named (it must be the URL requested)', async () => {
    expect(await refused('https://rs.example.com/prm', 'https://rs.example.com', 'https://rs.example.com/prm')).toMatch(/the URL requested/);
  });

  it('refuses the server URL from the root document (that one describes the origin)', async () => {
    await refused(ROOT, MCP);
  });

  it('refuses a fragment (the metadata parser already calls it invalid)', async () => {
    const net = fakeNetwork();
    net.on('GET', SUFFIXED, prm('https://rs.example.com/mcp#x'));
    await expect(discoverResourceMetadata(createStepContext(net.fetch), MCP, undefined)).rejects.toThrow(/is invalid \(resource\)/);
  });

  it('accepts differences RFC 3986 normalization removes (host case, default port), and sends the published spelling', async () => {
    const net = fakeNetwork();
    net.on('GET', SUFFIXED, prm('https://RS.example.com:443/mcp'));
    const r = await discoverResourceMetadata(createStepContext(net.fetch), MCP, undefined);
    expect(r.resource).toBe('https://RS.example.com:443/mcp');
  });
});
