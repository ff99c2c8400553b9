import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as oauth from 'oauth4webapi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStepContext } from '../src/step-context.ts';
import { register } from '../src/steps/registration.ts';
import { TokenStore } from '../src/store.ts';
import { fakeNetwork, json } from './fake-http.ts';

const ISSUER = 'https://as.example.com';
const REDIRECT = 'http://127.0.0.1/callback';

function as(extra: Partial<oauth.AuthorizationServer> = {}): oauth.AuthorizationServer {
  return { issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, ...extra };
}

let dir: string;
let store: TokenStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-lab-client-reg-'));
  store = new TokenStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function dcrNetwork() {
  const net = fakeNetwork();
  net.on('POST', `${ISSUER}/register`, (req) => json({ ...JSON.parse(req.body), client_id: 'dynamic-1' }, 201));
  return net;
}

const everything = as({ registration_endpoint: `${ISSUER}/register`, client_id_metadata_document_supported: true });

describe('registration priority', () => {
  it('1. a pre-registered --client-id wins over CIMD and DCR', async () => {
    const net = dcrNetwork();
    const r = await register(createStepContext(net.fetch), everything, store, {
      clientId: 'mcp-lab-cli',
      clientMetadataUrl: 'https://client.example.com/client.json',
      redirectUri: REDIRECT,
    });
    expect(r).toMatchObject({ method: 'pre-registered', client_id: 'mcp-lab-cli', token_endpoint_auth_method: 'none' });
    expect(net.seen).toHaveLength(0);
  });

  it('1. a pre-registered confidential client authenticates with its secret', async () => {
    const r = await register(createStepContext(fakeNetwork().fetch), as({ token_endpoint_auth_methods_supported: ['client_secret_post'] }), store, {
      clientId: 'c',
      clientSecret: 's',
      redirectUri: REDIRECT,
    });
    expect(r.token_endpoint_auth_method).toBe('client_secret_post');
  });

  it('1. a client configured for this issuer in the store is pre-registered too', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'store.json'), JSON.stringify({ version: 1, tokens: [], registrations: [], clients: { [ISSUER]: { client_id: 'configured-1' } } }));
    const net = dcrNetwork();
    const r = await register(createStepContext(net.fetch), everything, store, { redirectUri: REDIRECT });
    expect(r).toMatchObject({ method: 'configured', client_id: 'configured-1' });
    expect(net.seen).toHaveLength(0);
  });

  it('2. CIMD when the AS supports it and a metadata URL is given', async () => {
    const net = dcrNetwork();
    const r = await register(createStepContext(net.fetch), everything, store, {
      clientMetadataUrl: 'https://client.example.com/client.json',
      redirectUri: REDIRECT,
    });
    expect(r).toMatchObject({ method: 'cimd', client_id: 'https://client.example.com/client.json' });
    expect(net.seen).toHaveLength(0);
  });

  it('2. refuses a CIMD URL that is not https with a path', async () => {
    await expect(
      register(createStepContext(dcrNetwork().fetch), everything, store, { clientMetadataUrl: 'https://client.example.com/', redirectUri: REDIRECT }),
    ).rejects.toThrow(/https with a path/);
  });
});

describe('registration priority: DCR and the fallbacks', () => {
  it('3. DCR when CIMD is unsupported, even with a metadata URL, as a native public client', async () => {
    const net = dcrNetwork();
    const r = await register(createStepContext(net.fetch), as({ registration_endpoint: `${ISSUER}/register` }), store, {
      clientMetadataUrl: 'https://client.example.com/client.json',
      redirectUri: REDIRECT,
    });
    expect(r).toMatchObject({ method: 'dcr', client_id: 'dynamic-1' });
    const body = JSON.parse(net.seen[0]!.body);
    expect(body).toMatchObject({
      application_type: 'native',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
  });

  it('3. a stored DCR registration for the same issuer is reused; another issuer registers anew', async () => {
    const net = dcrNetwork();
    const dcrAs = as({ registration_endpoint: `${ISSUER}/register` });
    await register(createStepContext(net.fetch), dcrAs, store, { redirectUri: REDIRECT });
    const again = await register(createStepContext(net.fetch), dcrAs, store, { redirectUri: REDIRECT });
    expect(again).toMatchObject({ method: 'stored-dcr', client_id: 'dynamic-1' });
    expect(net.seen).toHaveLength(1);
    const other = fakeNetwork();
    other.on('POST', 'https://other.example.com/register', json({ client_id: 'other-1', redirect_uris: [REDIRECT] }, 201));
    const r = await register(createStepContext(other.fetch), { issuer: 'https://other.example.com', registration_endpoint: 'https://other.example.com/register' }, store, { redirectUri: REDIRECT });
    expect(r).toMatchObject({ method: 'dcr', client_id: 'other-1' });
  });

  it('4. neither CIMD nor DCR: a clear error telling the user to pass --client-id', async () => {
    await expect(register(createStepContext(fakeNetwork().fetch), as(), store, { redirectUri: REDIRECT })).rejects.toMatchObject({
      message: expect.stringMatching(/supports neither/),
      hint: expect.stringMatching(/--client-id/),
    });
  });

  it('surfaces a DCR refusal with the server\'s error code', async () => {
    const net = fakeNetwork();
    net.on('POST', `${ISSUER}/register`, json({ error: 'invalid_redirect_uri', error_description: 'loopback not allowed' }, 400));
    await expect(
      register(createStepContext(net.fetch), as({ registration_endpoint: `${ISSUER}/register` }), store, { redirectUri: REDIRECT }),
    ).rejects.toThrow(/invalid_redirect_uri: loopback not allowed/);
  });
});
