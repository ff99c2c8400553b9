/** The rendered Keycloak realm: the browser client's origin joins the public client's web origins (CORS). */
import { describe, expect, it } from 'vitest';
import { keycloakRealmValues, renderKeycloakRealm } from '../src/idp/keycloak-realm.ts';
import { loadProfile, profileWebEnv } from '../src/profile.ts';

interface RenderedClient {
  clientId: string;
  publicClient?: boolean;
  webOrigins?: string[];
}

function publicClient(json: string): RenderedClient {
  return (JSON.parse(json) as { clients: RenderedClient[] }).clients.find((c) => c.publicClient === true)!;
}

describe('Keycloak realm web origins', () => {
  const values = keycloakRealmValues(loadProfile('keycloak'), 'http://127.0.0.1:3000');

  it('keeps "+" alone without a browser client', () => {
    expect(publicClient(renderKeycloakRealm(values)).webOrigins).toEqual(['+']);
  });

  it("adds the page's origin (a port-less loopback redirect URI gives no origin with a port)", () => {
    const client = publicClient(renderKeycloakRealm({ ...values, webOrigins: ['http://127.0.0.1:3100'] }));
    expect(client.webOrigins).toEqual(['+', 'http://127.0.0.1:3100']);
  });
});

describe('profileWebEnv', () => {
  it.each([
    ['embedded', { WEB_IDP_NAME: 'embedded' }],
    ['dex', { WEB_IDP_NAME: 'dex', WEB_CLIENT_ID: 'mcp-lab-cli' }],
    ['keycloak', { WEB_IDP_NAME: 'keycloak', WEB_CLIENT_ID: 'mcp-lab-cli' }],
  ])('%s: how the page gets its client_id', (name, env) => {
    expect(profileWebEnv(loadProfile(name))).toEqual(env);
  });
});
