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

/**
 * The two ways the lab gets the RS into `aud` with Keycloak (keycloak/README.md, "Two variants"):
 * - `audience-mapper` (profile `keycloak`, strategy audience-mapper): audience mappers add every RS identifier to
 *   every token, whatever `resource` the client sends (Keycloak ignores it);
 * - `resource-indicators` (profile `keycloak-resource-indicators`, strategy resource-indicator): Keycloak's
 *   experimental RFC 8707 feature narrows `aud` to the requested resource. It filters the audience the mappers
 *   produce rather than adding to it, and accepts a resource only when a client in `aud` claims it as its
 *   `resource_url`: so each RS identifier becomes a bearer-only client with that `resource_url`, and the mappers add
 *   those clients.
 */
export const KEYCLOAK_VARIANTS = ['audience-mapper', 'resource-indicators'] as const;
export type KeycloakVariant = (typeof KEYCLOAK_VARIANTS)[number];

/** Keycloak features (a build-time option) a variant needs. */
export function keycloakFeatures(variant: KeycloakVariant): readonly string[] {
  return variant === 'resource-indicators' ? ['resource-indicators'] : [];
}

export interface RealmValues {
  /** The public client the CLI uses. */
  readonly clientId: string;
  /** What the RS accepts in `aud` (the audience mappers' values, or the resources of the bearer-only clients). */
  readonly audiences: readonly string[];
  readonly variant: KeycloakVariant;
  /** Browser origins (the lab's browser client) added to the public client's web origins: CORS at the token endpoint. */
  readonly webOrigins?: readonly string[];
}

/** The realm values of a Keycloak profile (pre-registered client; audience-mapper or resource-indicator) with the RS at `rsOrigin`. */
export function keycloakRealmValues(profile: Profile, rsOrigin: string): RealmValues {
  const strategy = profile.audience.strategy;
  if (profile.registration.method !== 'pre-registered' || (strategy !== 'audience-mapper' && strategy !== 'resource-indicator')) {
    throw new Error(`profile ${profile.name} is not a Keycloak profile (pre-registered client, audience-mapper or resource-indicator)`);
  }
  return {
    clientId: profile.registration.clientId,
    audiences: rsAudiences(profile, rsOrigin),
    variant: strategy === 'resource-indicator' ? 'resource-indicators' : 'audience-mapper',
  };
}

/** `aud-rs-origin`, `aud-rs-mcp`, `aud-rs-sse` for the RS's URLs; `aud-<value>` for anything else. */
function mapperName(audience: string): string {
  if (!URL.canParse(audience)) return `aud-${audience.replace(/[^A-Za-z0-9._-]/g, '-')}`;
  const path = new URL(audience).pathname.replace(/\/$/, '');
  return path === '' ? 'aud-rs-origin' : `aud-rs${path.replace(/\//g, '-')}`;
}

/** resource-indicators: the bearer-only client that stands for one RS identifier (`mcp-lab-rs`, `mcp-lab-rs-mcp`, …). */
function resourceClientId(audience: string): string {
  return mapperName(audience).replace(/^aud-rs/, 'mcp-lab-rs');
}

function resourceClient(audience: string): Record<string, unknown> {
  return {
    clientId: resourceClientId(audience),
    name: `MCP lab RS (${audience})`,
    protocol: 'openid-connect',
    enabled: true,
    bearerOnly: true,
    attributes: { resource_url: audience },
  };
}

function audienceMapper(audience: string, variant: KeycloakVariant = 'audience-mapper'): Record<string, unknown> {
  return {
    name: mapperName(audience),
    protocol: 'openid-connect',
    protocolMapper: 'oidc-audience-mapper',
    consentRequired: false,
    config: {
      ...(variant === 'audience-mapper' ? { 'included.custom.audience': audience } : { 'included.client.audience': resourceClientId(audience) }),
      'access.token.claim': 'true',
      'id.token.claim': 'false',
      'introspection.token.claim': 'true',
    },
  };
}

interface Realm {
  clientScopes: { name: string; protocolMappers?: unknown[] }[];
  clients: { clientId: string; publicClient?: boolean; webOrigins?: string[] }[];
}

/** Every audience of a resource-indicators realm must be a URL: it is a `resource_url` too. */
function checkResources(values: RealmValues): void {
  if (values.variant !== 'resource-indicators') return;
  const bad = values.audiences.filter((a) => !URL.canParse(a));
  if (bad.length > 0) throw new Error(`resource-indicators: every RS audience must be a resource URL (got ${bad.join(', ')})`);
}

/** The realm JSON (2-space indented, as committed) with `values` written in. */
export function renderKeycloakRealm(values: RealmValues, template: string = readFileSync(KEYCLOAK_REALM_FILE, 'utf8')): string {
  const realm = JSON.parse(template) as Realm;
  const scope = realm.clientScopes.find((s) => s.name === AUDIENCE_CLIENT_SCOPE);
  const clients = realm.clients.filter((c) => c.publicClient === true);
  if (scope === undefined || clients.length !== 1) {
    throw new Error(`the realm template needs the client scope ${AUDIENCE_CLIENT_SCOPE} and exactly one public client`);
  }
  checkResources(values);
  scope.protocolMappers = values.audiences.map((a) => audienceMapper(a, values.variant));
  clients[0]!.clientId = values.clientId;
  // '+' (the redirect URIs' origins) stays; a redirect URI http://127.0.0.1/* names no port, so a page's origin is added.
  if (values.webOrigins?.length) clients[0]!.webOrigins = [...(clients[0]!.webOrigins ?? []), ...values.webOrigins];
  if (values.variant === 'resource-indicators') realm.clients.push(...(values.audiences.map(resourceClient) as Realm['clients']));
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
