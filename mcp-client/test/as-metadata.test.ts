import { describe, expect, it } from 'vitest';
import { createStepContext } from '../src/step-context.ts';
import { discoverAuthorizationServer } from '../src/steps/as-metadata.ts';
import { fakeNetwork, json } from './fake-http.ts';

function asDoc(issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    ...extra,
  };
}

describe('as-metadata: discovery order', () => {
  it('for an issuer with a path: RFC 8414 insertion, OIDC insertion, OIDC appending', async () => {
    const net = fakeNetwork();
    const issuer = 'https://as.example.com/tenant1';
    net.on('GET', 'https://as.example.com/tenant1/.well-known/openid-configuration', json(asDoc(issuer)));
    const r = await discoverAuthorizationServer(createStepContext(net.fetch), issuer);
    expect(net.calls()).toEqual([
      'GET https://as.example.com/.well-known/oauth-authorization-server/tenant1',
      'GET https://as.example.com/.well-known/openid-configuration/tenant1',
      'GET https://as.example.com/tenant1/.well-known/openid-configuration',
    ]);
    expect(r.as.issuer).toBe(issuer);
  });

  it('for an issuer without a path: RFC 8414, then OIDC', async () => {
    const net = fakeNetwork();
    const issuer = 'https://as.example.com';
    net.on('GET', 'https://as.example.com/.well-known/openid-configuration', json(asDoc(issuer)));
    await discoverAuthorizationServer(createStepContext(net.fetch), issuer);
    expect(net.calls()).toEqual([
      'GET https://as.example.com/.well-known/oauth-authorization-server',
      'GET https://as.example.com/.well-known/openid-configuration',
    ]);
  });

  it('stops at the first document found', async () => {
    const net = fakeNetwork();
    const issuer = 'https://as.example.com';
    net.on('GET', 'https://as.example.com/.well-known/oauth-authorization-server', json(asDoc(issuer)));
    await discoverAuthorizationServer(createStepContext(net.fetch), issuer);
    expect(net.calls()).toHaveLength(1);
  });
});

describe('as-metadata: refusals', () => {
  const issuer = 'https://as.example.com';
  const url = 'https://as.example.com/.well-known/oauth-authorization-server';

  it('refuses metadata whose issuer is not identical (mix-up)', async () => {
    const net = fakeNetwork();
    net.on('GET', url, json(asDoc('https://honest.example.com')));
    await expect(discoverAuthorizationServer(createStepContext(net.fetch), issuer)).rejects.toThrow(/issuer identical/);
  });

  it('refuses an issuer that differs only by a trailing slash (no normalization)', async () => {
    const net = fakeNetwork();
    net.on('GET', url, json(asDoc('https://as.example.com/')));
    await expect(discoverAuthorizationServer(createStepContext(net.fetch), issuer)).rejects.toThrow(/issuer identical/);
  });

  it('refuses when code_challenge_methods_supported is absent', async () => {
    const net = fakeNetwork();
    const doc = asDoc(issuer);
    delete doc.code_challenge_methods_supported;
    net.on('GET', url, json(doc));
    await expect(discoverAuthorizationServer(createStepContext(net.fetch), issuer)).rejects.toThrow(/PKCE S256 supported/);
  });

  it('refuses when S256 is not among the PKCE methods', async () => {
    const net = fakeNetwork();
    net.on('GET', url, json(asDoc(issuer, { code_challenge_methods_supported: ['plain'] })));
    await expect(discoverAuthorizationServer(createStepContext(net.fetch), issuer)).rejects.toThrow(/PKCE S256 supported/);
  });

  it('refuses a plain-http authorization endpoint on a non-loopback host', async () => {
    const net = fakeNetwork();
    net.on('GET', url, json(asDoc(issuer, { authorization_endpoint: 'http://as.example.com/authorize' })));
    await expect(discoverAuthorizationServer(createStepContext(net.fetch), issuer)).rejects.toThrow(/authorization_endpoint is https/);
  });

  it('accepts plain http on loopback', async () => {
    const net = fakeNetwork();
    const local = 'http://127.0.0.1:4000';
    net.on('GET', `${local}/.well-known/oauth-authorization-server`, json(asDoc(local)));
    const r = await discoverAuthorizationServer(createStepContext(net.fetch), local);
    expect(r.as.token_endpoint).toBe(`${local}/token`);
  });

  it('refuses a plain-http issuer on a non-loopback host without fetching', async () => {
    const net = fakeNetwork();
    await expect(discoverAuthorizationServer(createStepContext(net.fetch), 'http://as.example.com')).rejects.toThrow(/issuer is https/);
    expect(net.seen).toHaveLength(0);
  });
});
