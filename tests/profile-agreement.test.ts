/**
 * The profiles (profiles/*.json) are the one source of the audience, resource and endpoint identifiers. Whatever
 * repeats them as a file a tool reads by itself — docker-compose.yml, dex/config.yaml, the Keycloak realm, the
 * embedded IdP's and the RS's defaults — must say what the profile says, with the launcher's default ports.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig as loadIdpConfig, DEFAULT_RESOURCES, DEFAULT_SCOPES } from '../embedded-idp/src/config.ts';
import { loadConfig as loadRsConfig } from '../mcp-server/src/config.ts';
import { DEX_CONFIG_PATH, DEX_DEFAULTS, renderDexConfig } from '../scripts/dex-config.ts';
import {
  DEFAULT_RS_ORIGIN,
  KEYCLOAK_REALM_FILE,
  audienceScope,
  keycloakRealmValues,
  loadProfile,
  profileClientArgs,
  profileIssuer,
  profileRsEnv,
  renderKeycloakRealm,
  rsAudiences,
} from '@mcp-lab/launcher';

const embedded = loadProfile('embedded');
const dex = loadProfile('dex');
const keycloak = loadProfile('keycloak');
const origin = (port: number | undefined): string => `http://127.0.0.1:${port}`;

/** A compose value with every `${VAR:-default}` at its default, as `docker-compose up` without variables reads it. */
function composeDefault(value: string): string {
  return value.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
}

interface ComposeService {
  environment?: Record<string, string | number>;
  command?: string[];
  ports?: string[];
}
const compose = parseYaml(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<string, ComposeService>;
};

function composeEnv(service: string): Record<string, string> {
  const env = compose.services[service]?.environment ?? {};
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, composeDefault(String(v))]));
}

describe('docker-compose.yml runs profiles/dex.json', () => {
  const issuer = profileIssuer(dex, origin(dex.idp.port));

  it('publishes the profile’s IdP port and the RS’s default port', () => {
    const ports = (compose.services['lab-net']?.ports ?? []).map(composeDefault);
    expect(ports).toEqual([`127.0.0.1:${dex.idp.port}:${dex.idp.port}`, `127.0.0.1:${new URL(DEFAULT_RS_ORIGIN).port}:${new URL(DEFAULT_RS_ORIGIN).port}`]);
  });

  it('configures the RS exactly as the launcher does for the profile', () => {
    const env = composeEnv('mcp-server');
    expect(env.MCP_PUBLIC_URL).toBe(DEFAULT_RS_ORIGIN);
    const fromProfile = profileRsEnv(dex, issuer, DEFAULT_RS_ORIGIN);
    expect(Object.fromEntries(Object.keys(fromProfile).map((k) => [k, env[k]]))).toEqual(fromProfile);
  });

  it('gives authz-metadata the profile’s issuer and Dex’s listener as its upstream', () => {
    const env = composeEnv('authz-metadata');
    expect(env.AUTHZ_METADATA_ISSUER).toBe(issuer);
    expect(env.AUTHZ_METADATA_UPSTREAM).toBe(`http://${DEX_DEFAULTS.listen}`);
    expect(env.AUTHZ_METADATA_PORT).toBe(String(dex.idp.port));
  });

  it('runs the CLI with the profile’s client options and first user', () => {
    const command = (compose.services['mcp-client']?.command ?? []).map(composeDefault);
    expect(command).toContain(`${DEFAULT_RS_ORIGIN}/mcp`);
    const args = profileClientArgs(dex);
    for (let i = 0; i < args.length; i += 2) {
      expect(command[command.indexOf(args[i]!) + 1], args[i]).toBe(args[i + 1]);
    }
    const user = dex.login.users[0]!;
    expect(command[command.indexOf('--login') + 1]).toBe(`${user.username}:${user.password}`);
  });
});

describe('dex/config.yaml is profiles/dex.json', () => {
  const config = parseYaml(readFileSync(DEX_CONFIG_PATH, 'utf8')) as {
    issuer: string;
    staticClients: { id: string; public?: boolean; trustedPeers?: string[] }[];
    staticPasswords: { email: string }[];
  };

  it('is the template rendered from the profile’s defaults', () => {
    expect(readFileSync(DEX_CONFIG_PATH, 'utf8')).toBe(renderDexConfig(DEX_DEFAULTS));
    expect(config.issuer).toBe(profileIssuer(dex, origin(dex.idp.port)));
  });

  it('registers the profile’s public client and the audience client that trusts it', () => {
    const clientId = dex.registration.method === 'pre-registered' ? dex.registration.clientId : undefined;
    const [audienceClient] = dex.audience.rsAccepts;
    expect(config.staticClients.find((c) => c.public)?.id).toBe(clientId);
    expect(config.staticClients.find((c) => c.id === audienceClient)?.trustedPeers).toEqual([clientId]);
    expect(dex.scopesSupported).toContain(audienceScope(audienceClient!));
  });

  it('has the profile’s users', () => {
    expect(config.staticPasswords.map((u) => u.email)).toEqual(dex.login.users.map((u) => u.username));
  });
});

describe('keycloak/realm-mcp-lab.json is profiles/keycloak.json', () => {
  const text = readFileSync(KEYCLOAK_REALM_FILE, 'utf8');
  const realm = JSON.parse(text) as { clientScopes: { name: string }[]; users: { username: string }[] };

  it('is the realm rendered for the profile with the RS on its default origin', () => {
    expect(text).toBe(renderKeycloakRealm(keycloakRealmValues(keycloak, DEFAULT_RS_ORIGIN)));
  });

  it('defines a client scope for every scope the profile names, and the profile’s users', () => {
    const names = realm.clientScopes.map((s) => s.name);
    for (const scope of keycloak.scopesSupported) expect(names).toContain(scope);
    expect(realm.users.map((u) => u.username)).toEqual(keycloak.login.users.map((u) => u.username));
  });

  it('puts another RS origin into every audience when rendered for it', () => {
    const other = JSON.parse(renderKeycloakRealm(keycloakRealmValues(keycloak, 'http://127.0.0.1:3999'))) as {
      clientScopes: { name: string; protocolMappers?: { config: Record<string, string> }[] }[];
    };
    const mappers = other.clientScopes.find((s) => s.name === 'mcp-lab-resource')?.protocolMappers ?? [];
    expect(mappers.map((m) => m.config['included.custom.audience'])).toEqual(rsAudiences(keycloak, 'http://127.0.0.1:3999'));
  });
});

describe('the services’ defaults are profiles/embedded.json', () => {
  it('the embedded IdP issues tokens for exactly the resources the RS accepts, with the profile’s scopes', () => {
    expect([...DEFAULT_RESOURCES]).toEqual(rsAudiences(embedded, DEFAULT_RS_ORIGIN));
    expect([...DEFAULT_SCOPES]).toEqual(embedded.scopesSupported);
    expect(loadIdpConfig({ IDP_PORT: String(embedded.idp.port) }).issuer).toBe(profileIssuer(embedded, origin(embedded.idp.port)));
  });

  it('the RS accepts by default what the embedded profile makes it accept', () => {
    const rs = loadRsConfig({ MCP_ISSUER: profileIssuer(embedded, origin(embedded.idp.port)) });
    expect(rs.publicUrl).toBe(DEFAULT_RS_ORIGIN);
    expect([...rs.audiences]).toEqual(rsAudiences(embedded, DEFAULT_RS_ORIGIN));
    expect([...rs.scopesSupported]).toEqual(embedded.scopesSupported);
  });
});
