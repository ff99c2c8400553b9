/**
 * The Keycloak realm the lab imports: keycloak/realm-mcp-lab.json with the profile's identifiers written in — the
 * public client's id (registration.clientId) and one audience mapper per `aud` value the RS accepts
 * (audience.rsAccepts, strategy audience-mapper). The committed file is this rendering for profiles/keycloak.json and
 * the default RS origin (tests/profile-agreement.test.ts keeps it so), so importing it by hand works too.
 *
 *   node launcher/src/idp/keycloak-realm.ts [--rs-url http://127.0.0.1:3000] [--profile keycloak] [out-file]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_RS_ORIGIN, loadProfile, rsAudiences, type Profile } from '../profile.ts';
import { repoPath } from '../repo.ts';

export const KEYCLOAK_REALM_FILE = repoPath('keycloak/realm-mcp-lab.json');
/** The realm's default client scope that carries the audience mappers. */
export const AUDIENCE_CLIENT_SCOPE = 'mcp-lab-resource';

export interface RealmValues {
  /** The public client the CLI uses. */
  readonly clientId: string;
  /** What the audience mappers put into `aud`. */
  readonly audiences: readonly string[];
}

/** The realm values of a Keycloak profile (pre-registered client, audience-mapper) with the RS at `rsOrigin`. */
export function keycloakRealmValues(profile: Profile, rsOrigin: string): RealmValues {
  if (profile.registration.method !== 'pre-registered' || profile.audience.strategy !== 'audience-mapper') {
    throw new Error(`profile ${profile.name} is not a Keycloak profile (pre-registered client, audience-mapper)`);
  }
  return { clientId: profile.registration.clientId, audiences: rsAudiences(profile, rsOrigin) };
}

/** `aud-rs-origin`, `aud-rs-mcp`, `aud-rs-sse` for the RS's URLs; `aud-<value>` for anything else. */
function mapperName(audience: string): string {
  if (!URL.canParse(audience)) return `aud-${audience.replace(/[^A-Za-z0-9._-]/g, '-')}`;
  const path = new URL(audience).pathname.replace(/\/$/, '');
  return path === '' ? 'aud-rs-origin' : `aud-rs${path.replace(/\//g, '-')}`;
}

function audienceMapper(audience: string): Record<string, unknown> {
  return {
    name: mapperName(audience),
    protocol: 'openid-connect',
    protocolMapper: 'oidc-audience-mapper',
    consentRequired: false,
    config: {
      'included.custom.audience': audience,
      'access.token.claim': 'true',
      'id.token.claim': 'false',
      'introspection.token.claim': 'true',
    },
  };
}

interface Realm {
  clientScopes: { name: string; protocolMappers?: unknown[] }[];
  clients: { clientId: string; publicClient?: boolean }[];
}

/** The realm JSON (2-space indented, as committed) with `values` written in. */
export function renderKeycloakRealm(values: RealmValues, template: string = readFileSync(KEYCLOAK_REALM_FILE, 'utf8')): string {
  const realm = JSON.parse(template) as Realm;
  const scope = realm.clientScopes.find((s) => s.name === AUDIENCE_CLIENT_SCOPE);
  const clients = realm.clients.filter((c) => c.publicClient === true);
  if (scope === undefined || clients.length !== 1) {
    throw new Error(`the realm template needs the client scope ${AUDIENCE_CLIENT_SCOPE} and exactly one public client`);
  }
  scope.protocolMappers = values.audiences.map(audienceMapper);
  clients[0]!.clientId = values.clientId;
  return `${JSON.stringify(realm, null, 2)}\n`;
}

if (import.meta.filename === process.argv[1]) {
  const { values, positionals } = parseArgs({
    options: { 'rs-url': { type: 'string' }, profile: { type: 'string' } },
    allowPositionals: true,
  });
  const rsOrigin = (values['rs-url'] ?? DEFAULT_RS_ORIGIN).replace(/\/$/, '');
  const json = renderKeycloakRealm(keycloakRealmValues(loadProfile(values.profile ?? 'keycloak'), rsOrigin));
  if (positionals[0] !== undefined) writeFileSync(positionals[0], json);
  else process.stdout.write(json);
}
