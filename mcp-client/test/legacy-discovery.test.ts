import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowError } from '../src/errors.ts';
import { createStepContext } from '../src/step-context.ts';
import type { UserAgent } from '../src/steps/authorize.ts';
import { discoverLegacyAuthorizationServer } from '../src/steps/legacy-discovery.ts';
import { ResourceMetadataNotFoundError, discoverResourceMetadata } from '../src/steps/resource-metadata.ts';
import { fakeNetwork, json } from './fake-http.ts';
import { ISSUER, MCP, RS, asMetadataDocument, fakeLab, runFakeFlow, type FakeLab } from './fake-lab.ts';

const ORIGIN_METADATA = `${RS}/.well-known/oauth-authorization-server`;

async function notFound(promise: Promise<unknown>): Promise<ResourceMetadataNotFoundError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ResourceMetadataNotFoundError);
  return err as ResourceMetadataNotFoundError;
}

describe('legacy fallback gate: only when the server has no PRM at all', () => {
  it('allowed when the challenge names no resource_metadata and every well-known URI answers 404', async () => {
    const net = fakeNetwork();
    const err = await notFound(discoverResourceMetadata(createStepContext(net.fetch), MCP, undefined));
    expect(err.legacyFallbackAllowed).toBe(true);
  });

  it('not allowed when the challenge named a resource_metadata URL, even one that answers 404', async () => {
    const net = fakeNetwork();
    const err = await notFound(discoverResourceMetadata(createStepContext(net.fetch), MCP, `${RS}/gone`));
    expect(err.legacyFallbackAllowed).toBe(false);
  });

  it('not allowed when a well-known URI answers 500', async () => {
    const net = fakeNetwork();
    net.on('GET', `${RS}/.well-known/oauth-protected-resource`, new Response('boom', { status: 500 }));
    const err = await notFound(discoverResourceMetadata(createStepContext(net.fetch), MCP, undefined));
    expect(err.legacyFallbackAllowed).toBe(false);
  });

  it('not allowed when the well-known URI fails at the network level', async () => {
    const failing = async () => {
      throw new TypeError('fetch failed');
    };
    const err = await notFound(discoverResourceMetadata(createStepContext(failing), MCP, undefined));
    expect(err.legacyFallbackAllowed).toBe(false);
  });
});

describe('legacy-discovery step: AS metadata at the MCP server origin', () => {
  it('uses the origin metadata when its issuer is the authorization base URL', async () => {
    const net = fakeNetwork();
    net.on('GET', ORIGIN_METADATA, json(asMetadataDocument(RS)));
    const ctx = createStepContext(net.fetch);
    const r = await discoverLegacyAuthorizationServer(ctx, MCP);
    expect(r.source).toBe('metadata');
    expect(r.authorizationBaseUrl).toBe(RS);
    expect(r.as.issuer).toBe(RS);
    expect(r.as.token_endpoint).toBe(`${RS}/token`);
    expect(net.calls()).toEqual([`GET ${ORIGIN_METADATA}`]);
    expect(net.seen[0]?.headers.get('mcp-protocol-version')).toBe('2025-03-26');
    expect(ctx.checks[0]?.name).toBe('deprecated 2025-03-26 fallback');
    expect(ctx.checks.find((c) => c.name === 'issuer identical to the authorization base URL')?.ok).toBe(true);
  });

  it('accepts an issuer with a path on the same origin, and shows that it differs', async () => {
    const net = fakeNetwork();
    net.on('GET', ORIGIN_METADATA, json(asMetadataDocument(`${RS}/oauth`)));
    const ctx = createStepContext(net.fetch);
    const r = await discoverLegacyAuthorizationServer(ctx, MCP);
    expect(r.as.issuer).toBe(`${RS}/oauth`);
    expect(r.as.authorization_endpoint).toBe(`${RS}/oauth/authorize`);
    expect(ctx.checks.find((c) => c.name === 'issuer on the MCP server origin')?.ok).toBe(true);
    expect(ctx.checks.find((c) => c.name.startsWith('issuer identical to the authorization base URL'))?.ok).toBe(false);
  });

  it('refuses origin metadata that claims an issuer on another origin (mix-up)', async () => {
    const net = fakeNetwork();
    net.on('GET', ORIGIN_METADATA, json(asMetadataDocument('https://honest.example.com')));
    await expect(discoverLegacyAuthorizationServer(createStepContext(net.fetch), MCP)).rejects.toThrow(/issuer on the MCP server origin/);
  });

  it('refuses origin metadata that does not advertise PKCE S256', async () => {
    const net = fakeNetwork();
    net.on('GET', ORIGIN_METADATA, json(asMetadataDocument(RS, { code_challenge_methods_supported: ['plain'] })));
    await expect(discoverLegacyAuthorizationServer(createStepContext(net.fetch), MCP)).rejects.toThrow(/PKCE S256 supported/);
  });

  it('refuses origin metadata with a plain-http endpoint on a non-loopback host', async () => {
    const net = fakeNetwork();
    net.on('GET', ORIGIN_METADATA, json(asMetadataDocument(RS, { token_endpoint: 'http://rs.example.com/token' })));
    await expect(discoverLegacyAuthorizationServer(createStepContext(net.fetch), MCP)).rejects.toThrow(/token_endpoint is https/);
  });
});

describe('legacy-discovery step: default endpoints', () => {
  it('assumes <origin>/authorize, /token, /register when the metadata URL answers 404, and says so', async () => {
    const net = fakeNetwork();
    const ctx = createStepContext(net.fetch);
    const r = await discoverLegacyAuthorizationServer(ctx, 'https://rs.example.com/v1/mcp');
    expect(r.source).toBe('default-endpoints');
    expect(r.as).toEqual({
      issuer: RS,
      authorization_endpoint: `${RS}/authorize`,
      token_endpoint: `${RS}/token`,
      registration_endpoint: `${RS}/register`,
    });
    expect(ctx.checks.find((c) => c.name === 'default endpoints assumed (2025-03-26)')?.detail).toBe(`${RS}/authorize, ${RS}/token, ${RS}/register`);
  });

  it('does not assume endpoints when the metadata URL answers 500', async () => {
    const net = fakeNetwork();
    net.on('GET', ORIGIN_METADATA, new Response('boom', { status: 500 }));
    await expect(discoverLegacyAuthorizationServer(createStepContext(net.fetch), MCP)).rejects.toThrow(/authorization server metadata absent \(HTTP 404\): HTTP 500/);
  });

  it('refuses a plain-http MCP server on a non-loopback host without fetching', async () => {
    const net = fakeNetwork();
    await expect(discoverLegacyAuthorizationServer(createStepContext(net.fetch), 'http://rs.example.com/mcp')).rejects.toThrow(/authorization base URL is https/);
    expect(net.seen).toHaveLength(0);
  });
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-lab-client-legacy-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(lab: FakeLab, userAgent: UserAgent = lab.userAgent()) {
  return runFakeFlow(lab, dir, userAgent);
}

describe('flow: the deprecated 2025-03-26 fallback', () => {
  it('is used when the server has no PRM: default endpoints, then the usual checked flow', async () => {
    const lab = fakeLab({ legacy: 'default-endpoints' });
    const r = run(lab);
    const result = await r.promise;
    expect(r.steps()).toEqual([
      'probe:ok', 'resource-metadata:fail', 'legacy-discovery:ok', 'registration:ok', 'authorize:ok', 'callback:ok', 'token:ok', 'initialize:ok', 'tools-list:ok',
    ]);
    expect(result.tools?.map((t) => t.name)).toEqual(['notes_add']);
    expect(r.event('resource-metadata')?.data.next).toBe('legacy-discovery');
    const legacy = r.event('legacy-discovery')!;
    expect(legacy.data).toMatchObject({ source: 'default-endpoints', authorization_base_url: RS, token_endpoint: `${RS}/token` });
    expect(String(legacy.data.deprecated)).toMatch(/2025-03-26/);
    expect(r.warnings.join('\n')).toMatch(/deprecated 2025-03-26 discovery/);
    expect(lab.net.calls()).toEqual(expect.arrayContaining([`GET ${ORIGIN_METADATA}`, `POST ${RS}/register`, `POST ${RS}/token`]));
    // PKCE S256, state and the resource indicator are sent exactly as with PRM.
    const url = new URL(String(r.event('authorize')!.data.authorization_url));
    expect(`${url.origin}${url.pathname}`).toBe(`${RS}/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('state')).toBeTruthy();
    expect(url.searchParams.get('resource')).toBe(MCP);
  });

  it('is used with AS metadata at the origin (issuer with a path on that origin)', async () => {
    const lab = fakeLab({ legacy: 'metadata', legacyIssuer: `${RS}/oauth` });
    const r = run(lab);
    await r.promise;
    expect(r.steps()).toContain('legacy-discovery:ok');
    expect(r.event('legacy-discovery')!.data).toMatchObject({ source: 'metadata', metadata_url: ORIGIN_METADATA, issuer: `${RS}/oauth` });
    expect(lab.net.calls()).toContain(`POST ${RS}/oauth/token`);
  });

  it('still checks iss: a response naming another issuer is refused before the token request', async () => {
    const lab = fakeLab({ legacy: 'metadata' });
    const r = run(lab, lab.userAgent((p) => p.set('iss', 'https://evil.example.com')));
    await expect(r.promise).rejects.toThrow(/iss matches the recorded issuer/);
    expect(r.steps()).toContain('callback:fail');
    expect(lab.net.calls()).not.toContain(`POST ${RS}/token`);
  });

  it('still checks state', async () => {
    const lab = fakeLab({ legacy: 'default-endpoints' });
    const r = run(lab, lab.userAgent((p) => p.set('state', 'forged')));
    await expect(r.promise).rejects.toThrow(/state matches/);
    expect(lab.net.calls()).not.toContain(`POST ${RS}/token`);
  });
});

describe('flow: the deprecated fallback is not used when a PRM exists', () => {
  it('is NOT used when a PRM document exists but its resource does not match', async () => {
    const lab = fakeLab();
    lab.net.on('GET', `${RS}/.well-known/oauth-protected-resource/mcp`, json({ resource: 'https://evil.example.com/mcp', authorization_servers: [ISSUER] }));
    const r = run(lab);
    const err = await r.promise.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).message).toMatch(/resource is identical to the expected resource identifier/);
    expect(r.steps()).toEqual(['probe:ok', 'resource-metadata:fail']);
    expect(r.event('resource-metadata')?.data.next).toBeUndefined();
    expect(lab.net.calls()).not.toContain(`GET ${ORIGIN_METADATA}`);
    expect(r.warnings).toEqual([]);
  });

  it('is NOT used when the PRM names an authorization server whose metadata has another issuer', async () => {
    const lab = fakeLab();
    lab.net.on('GET', `${ISSUER}/.well-known/oauth-authorization-server`, json(asMetadataDocument('https://honest.example.com')));
    const r = run(lab);
    await expect(r.promise).rejects.toThrow(/issuer identical to the one the resource named/);
    expect(r.steps()).toEqual(['probe:ok', 'resource-metadata:ok', 'as-metadata:fail']);
    expect(lab.net.calls()).not.toContain(`GET ${ORIGIN_METADATA}`);
  });

  it('is NOT used when the PRM the challenge names is missing', async () => {
    const lab = fakeLab();
    lab.net.on('GET', `${RS}/.well-known/oauth-protected-resource/mcp`, new Response('not found', { status: 404 }));
    const r = run(lab);
    await expect(r.promise).rejects.toThrow(/no protected resource metadata found/);
    expect(r.steps()).toEqual(['probe:ok', 'resource-metadata:fail']);
    expect(lab.net.calls()).not.toContain(`GET ${ORIGIN_METADATA}`);
  });
});
