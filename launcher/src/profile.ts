/**
 * IdP profiles: one declarative JSON file per IdP (profiles/<name>.json) that says everything the stack needs to
 * know about it — where its issuer is, how clients find its metadata and register, how the RS audience gets into the
 * token, where permissions come from, and which headless login driver fits its login form. Selecting a profile
 * switches the launcher, the RS configuration and the client's options; no code changes.
 */
import { readFileSync } from 'node:fs';
import { QUIRK_NAMES, isQuirkName, type QuirkName } from '@mcp-lab/authz-metadata/quirks';
import { repoPath } from './repo.ts';

export const IDP_KINDS = ['embedded', 'dex', 'keycloak', 'external'] as const;
export const METADATA_SOURCES = ['rfc8414', 'oidc', 'static-rfc8414'] as const;
export const REGISTRATION_METHODS = ['dcr', 'pre-registered', 'cimd'] as const;
export const AUDIENCE_STRATEGIES = ['resource-indicator', 'audience-scope', 'audience-mapper', 'client-id'] as const;
/** The CLI's `--login-driver` values; `auto` suits hosted IdPs, where a person signs in in the browser. */
export const LOGIN_DRIVERS = ['auto', 'embedded', 'dex', 'keycloak'] as const;

export type IdpKind = (typeof IDP_KINDS)[number];
export type AudienceStrategy = (typeof AUDIENCE_STRATEGIES)[number];

/** The RS origin the launcher (`npm start`), compose and the committed IdP configurations default to. */
export const DEFAULT_RS_ORIGIN = 'http://127.0.0.1:3000';

/**
 * The one strategy each IdP the lab starts supports: the launcher configures that IdP from the profile's audience
 * (resources for the embedded IdP, the audience client for Dex, audience mappers for Keycloak). An external IdP is
 * configured by its owner, so any strategy goes.
 */
export const STRATEGY_OF_KIND: Readonly<Record<Exclude<IdpKind, 'external'>, readonly AudienceStrategy[]>> = Object.freeze({
  embedded: ['resource-indicator'],
  dex: ['audience-scope'],
  // audience mappers, or (the keycloak-resource-indicators realm variant) Keycloak's experimental RFC 8707 feature.
  keycloak: ['audience-mapper', 'resource-indicator'],
});

/** Dex's cross-client scope that puts the client `audienceClientId` into `aud`. */
export function audienceScope(audienceClientId: string): string {
  return `audience:server:client_id:${audienceClientId}`;
}

export interface ProfileUser {
  readonly username: string;
  readonly password: string;
}

export interface Profile {
  readonly name: string;
  readonly description: string;
  /** `issuer` may use `{idp}` for the IdP's origin; `port` is the launcher's default for it. */
  readonly idp: { readonly kind: IdpKind; readonly port?: number; readonly issuer: string };
  /** How a client finds the AS metadata (documentation and test expectations; discovery itself follows the spec). */
  readonly metadata: (typeof METADATA_SOURCES)[number];
  readonly registration:
    | { readonly method: 'dcr' }
    | { readonly method: 'pre-registered'; readonly clientId: string; readonly clientSecret?: string }
    | { readonly method: 'cimd'; readonly clientMetadataUrl: string };
  /** How the RS's identifier gets into `aud`; `rsAccepts` may use `{rs}` for the RS origin. */
  readonly audience: {
    readonly strategy: AudienceStrategy;
    readonly rsAccepts: readonly string[];
    /** A resource the IdP also issues tokens for and the RS never accepts: `doctor --foreign-resource`. */
    readonly foreign?: string;
    /** Scopes that get a token without the RS's audience (audience-scope IdPs): `doctor --foreign-scope`. */
    readonly foreignScope?: string;
  };
  /** PRM scopes_supported; in claim mode also the scope of the RS's 401 challenge. */
  readonly scopesSupported: readonly string[];
  /** `scope`, or `claim:<name>` with a map `perm=value,value;perm=*`. */
  readonly permissions: { readonly from: string; readonly map?: string };
  readonly login: { readonly driver: (typeof LOGIN_DRIVERS)[number]; readonly users: readonly ProfileUser[] };
  /** Quirks the lab's fault-injecting layer applies (names from the quirk catalogue; `npm start -- --list-quirks`). */
  readonly quirks?: readonly QuirkName[];
}

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`invalid IdP profile ${source}:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

const PROFILE_DIR = repoPath('profiles/');

function oneOf<T extends string>(list: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (list as readonly string[]).includes(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');
}

/** Checks a parsed profile; every problem is collected and named by its JSON path. */
export function parseProfile(json: unknown, source: string): Profile {
  const p: string[] = [];
  if (!isObject(json)) throw new ProfileError(source, ['the profile must be a JSON object']);
  if (typeof json.name !== 'string' || !/^[a-z0-9-]+$/.test(json.name)) p.push('name: lower-case letters, digits, "-"');
  if (typeof json.description !== 'string') p.push('description: a string');
  const idp = json.idp;
  if (!isObject(idp)) p.push('idp: an object');
  else {
    if (!oneOf(IDP_KINDS, idp.kind)) p.push(`idp.kind: one of ${IDP_KINDS.join(', ')}`);
    if (idp.port !== undefined && !(Number.isInteger(idp.port) && (idp.port as number) > 0 && (idp.port as number) < 65536)) {
      p.push('idp.port: a TCP port');
    }
    if (typeof idp.issuer !== 'string') p.push('idp.issuer: a URL, may start with {idp}');
    else {
      try {
        new URL(idp.issuer.replace('{idp}', 'http://127.0.0.1:1'));
      } catch {
        p.push(`idp.issuer: not a URL: ${idp.issuer}`);
      }
    }
    if (idp.kind === 'external' && typeof idp.issuer === 'string' && idp.issuer.includes('{idp}')) {
      p.push('idp.issuer: an external IdP needs its real issuer, not {idp}');
    }
  }
  if (!oneOf(METADATA_SOURCES, json.metadata)) p.push(`metadata: one of ${METADATA_SOURCES.join(', ')}`);
  const reg = json.registration;
  if (!isObject(reg) || !oneOf(REGISTRATION_METHODS, reg.method)) {
    p.push(`registration.method: one of ${REGISTRATION_METHODS.join(', ')}`);
  } else if (reg.method === 'pre-registered' && (typeof reg.clientId !== 'string' || reg.clientId === '')) {
    p.push('registration.clientId: required for pre-registered');
  } else if (reg.method === 'cimd' && (typeof reg.clientMetadataUrl !== 'string' || !reg.clientMetadataUrl.startsWith('https://'))) {
    p.push('registration.clientMetadataUrl: an https URL, required for cimd');
  }
  const aud = json.audience;
  if (!isObject(aud)) p.push('audience: an object');
  else {
    if (!oneOf(AUDIENCE_STRATEGIES, aud.strategy)) p.push(`audience.strategy: one of ${AUDIENCE_STRATEGIES.join(', ')}`);
    if (!isStringList(aud.rsAccepts) || aud.rsAccepts.length === 0) p.push('audience.rsAccepts: a non-empty list of strings');
    else p.push(...audienceProblems(json, aud.strategy, aud.rsAccepts));
    if (aud.foreign !== undefined && (typeof aud.foreign !== 'string' || !URL.canParse(aud.foreign) || aud.foreign.includes('{'))) {
      p.push('audience.foreign: an absolute URL (no placeholders)');
    }
    if (aud.foreignScope !== undefined && (typeof aud.foreignScope !== 'string' || aud.foreignScope.trim() === '')) {
      p.push('audience.foreignScope: a space-separated scope list');
    }
  }
  if (!isStringList(json.scopesSupported)) p.push('scopesSupported: a list of strings');
  const perm = json.permissions;
  if (!isObject(perm) || typeof perm.from !== 'string' || !/^(scope|claim:[A-Za-z0-9_.-]+)$/.test(perm.from)) {
    p.push('permissions.from: "scope" or "claim:<name>"');
  } else if (perm.from.startsWith('claim:') && typeof perm.map !== 'string') {
    p.push('permissions.map: required when permissions come from a claim');
  }
  const login = json.login;
  if (!isObject(login) || !oneOf(LOGIN_DRIVERS, login.driver)) p.push(`login.driver: one of ${LOGIN_DRIVERS.join(', ')}`);
  else if (
    !Array.isArray(login.users) ||
    !login.users.every((u) => isObject(u) && typeof u.username === 'string' && typeof u.password === 'string')
  ) {
    p.push('login.users: a list of {username, password}');
  }
  if (json.quirks !== undefined) {
    const unknown = Array.isArray(json.quirks) ? json.quirks.filter((q) => typeof q !== 'string' || !isQuirkName(q)) : ['(not a list)'];
    if (unknown.length) p.push(`quirks: a list of quirk names; unknown: ${unknown.join(', ')} (known: ${QUIRK_NAMES.join(', ')})`);
  }
  if (p.length) throw new ProfileError(source, p);
  return Object.freeze(json) as unknown as Profile;
}

/** What `audience.strategy` demands of the rest of the profile (the launcher configures the IdP by it). */
function audienceProblems(json: Record<string, unknown>, strategy: unknown, rsAccepts: readonly string[]): string[] {
  const p: string[] = [];
  const kind = isObject(json.idp) ? json.idp.kind : undefined;
  if (oneOf(IDP_KINDS, kind) && kind !== 'external' && !(STRATEGY_OF_KIND[kind] as readonly unknown[]).includes(strategy)) {
    p.push(`audience.strategy: the lab configures ${kind} by ${STRATEGY_OF_KIND[kind].join(' or ')}`);
  }
  if (strategy === 'resource-indicator') {
    for (const a of rsAccepts) {
      if (!URL.canParse(a.replace('{rs}', 'http://127.0.0.1:1'))) p.push(`audience.rsAccepts: a resource indicator is a URL: ${a}`);
    }
  }
  if (strategy === 'audience-scope') {
    const [client, ...more] = rsAccepts;
    if (more.length > 0 || client === undefined || client.includes('{rs}')) {
      p.push('audience.rsAccepts: audience-scope names exactly one audience client id');
    } else if (!(isStringList(json.scopesSupported) && json.scopesSupported.includes(audienceScope(client)))) {
      p.push(`scopesSupported: audience-scope needs ${audienceScope(client)}, the scope that puts ${client} into aud`);
    }
    if (!isObject(json.registration) || json.registration.method !== 'pre-registered') {
      p.push('registration.method: audience-scope needs a pre-registered client (the audience client trusts it)');
    }
  }
  return p;
}

/** Loads `profiles/<name>.json`, or a profile file when the argument is a path. */
export function loadProfile(nameOrPath: string): Profile {
  const path = nameOrPath.includes('/') || nameOrPath.endsWith('.json') ? nameOrPath : `${PROFILE_DIR}${nameOrPath}.json`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ProfileError(path, [`cannot read it (${(cause as Error).message}); profiles: embedded, dex, keycloak`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ProfileError(path, [`not JSON: ${(cause as Error).message}`]);
  }
  return parseProfile(json, path);
}

/** The issuer for an IdP listening at `idpOrigin`. */
export function profileIssuer(profile: Profile, idpOrigin: string): string {
  return profile.idp.issuer.replace('{idp}', idpOrigin);
}

/** The `aud` values the RS accepts for a profile, `{rs}` filled in: the resources, audiences or client id it names. */
export function rsAudiences(profile: Profile, rsOrigin: string): string[] {
  return profile.audience.rsAccepts.map((a) => a.replace('{rs}', rsOrigin));
}

/** The resource server's environment for a profile (see mcp-server/src/config.ts). */
export function profileRsEnv(profile: Profile, issuer: string, rsOrigin: string): Record<string, string> {
  const env: Record<string, string> = {
    MCP_ISSUER: issuer,
    MCP_AUDIENCE: rsAudiences(profile, rsOrigin).join(','),
    MCP_PERMISSIONS_FROM: profile.permissions.from,
    MCP_SCOPES_SUPPORTED: profile.scopesSupported.join(' '),
  };
  if (profile.permissions.map !== undefined) env.MCP_PERMISSION_MAP = profile.permissions.map;
  return env;
}

/** The options `mcp-lab-client doctor` adds to the client's for a profile: the second audience to ask for. */
export function profileDoctorArgs(profile: Profile): string[] {
  const { foreign, foreignScope } = profile.audience;
  return [
    ...profileClientArgs(profile),
    ...(foreign === undefined ? [] : ['--foreign-resource', foreign]),
    ...(foreignScope === undefined ? [] : ['--foreign-scope', foreignScope]),
  ];
}

/** The client CLI options a profile implies (registration and login driver); the rest is discovered. */
export function profileClientArgs(profile: Profile): string[] {
  const args = ['--login-driver', profile.login.driver];
  const reg = profile.registration;
  if (reg.method === 'pre-registered') {
    args.push('--client-id', reg.clientId);
    if (reg.clientSecret !== undefined) args.push('--client-secret', reg.clientSecret);
  } else if (reg.method === 'cimd') {
    args.push('--client-metadata-url', reg.clientMetadataUrl);
  }
  return args;
}

/** The browser client's environment for a profile (see web/src/config.ts): how the page gets a client_id. */
export function profileWebEnv(profile: Profile): Record<string, string> {
  const env: Record<string, string> = { WEB_IDP_NAME: profile.name };
  const reg = profile.registration;
  if (reg.method === 'pre-registered') {
    env.WEB_CLIENT_ID = reg.clientId;
    if (reg.clientSecret !== undefined) env.WEB_CLIENT_CONFIDENTIAL = 'true';
  } else if (reg.method === 'cimd') {
    env.WEB_CLIENT_METADATA_URL = reg.clientMetadataUrl;
  }
  return env;
}
