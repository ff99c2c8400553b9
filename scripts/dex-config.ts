/**
 * Renders dex/config.template.yaml into a Dex configuration file.
 *
 * Library: `renderDexConfig(values)` returns the YAML text (the integration harness writes it to a temp dir with
 * free ports). Command line: `node scripts/dex-config.ts [out-file]` renders with the values from the environment
 * (DEX_ISSUER, DEX_LISTEN, DEX_ALLOWED_ORIGINS, DEX_ID_TOKEN_LIFETIME) and writes to out-file or stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_RS_ORIGIN, loadProfile, profileIssuer, type Profile } from '@mcp-lab/launcher/profile';

export const DEX_TEMPLATE_PATH = new URL('../dex/config.template.yaml', import.meta.url);
export const DEX_CONFIG_PATH = new URL('../dex/config.yaml', import.meta.url);

export interface DexConfigValues {
  /** Dex's issuer, on the public origin served by authz-metadata: `http://127.0.0.1:5556/dex`. */
  readonly issuer: string;
  /** host:port Dex listens on (behind authz-metadata): `127.0.0.1:5558`. */
  readonly listen: string;
  /** Origins allowed by Dex's CORS (browser clients). */
  readonly allowedOrigins: readonly string[];
  /** Go duration for ID and access tokens, e.g. `10m`. */
  readonly idTokenLifetime: string;
  /** The public client the CLI uses: the profile's registration.clientId. */
  readonly clientId: string;
  /** The RS's client, whose id the audience scope puts into `aud`: the profile's audience.rsAccepts[0]. */
  readonly audienceClientId: string;
}

/** The client ids a Dex profile (audience-scope, pre-registered; checked by parseProfile) configures Dex with. */
export function dexClientIds(profile: Profile): Pick<DexConfigValues, 'clientId' | 'audienceClientId'> {
  const [audienceClientId] = profile.audience.rsAccepts;
  if (profile.registration.method !== 'pre-registered' || profile.audience.strategy !== 'audience-scope' || !audienceClientId) {
    throw new DexConfigError([`profile ${profile.name} is not a Dex profile (pre-registered client, audience-scope)`]);
  }
  return { clientId: profile.registration.clientId, audienceClientId };
}

const DEX_PROFILE = loadProfile('dex');
const RS_LOCALHOST = new URL(DEFAULT_RS_ORIGIN);
RS_LOCALHOST.hostname = 'localhost';

/** profiles/dex.json on its default port, with the RS on its default origin. */
export const DEX_DEFAULTS: DexConfigValues = Object.freeze({
  issuer: profileIssuer(DEX_PROFILE, `http://127.0.0.1:${DEX_PROFILE.idp.port}`),
  listen: '127.0.0.1:5558',
  allowedOrigins: Object.freeze([DEFAULT_RS_ORIGIN, RS_LOCALHOST.origin]),
  idTokenLifetime: '10m',
  ...dexClientIds(DEX_PROFILE),
});

export class DexConfigError extends Error {
  override readonly name = 'DexConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid Dex configuration values:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

function checkValues(v: DexConfigValues): void {
  const problems: string[] = [];
  try {
    const u = new URL(v.issuer);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`issuer must be http(s): ${v.issuer}`);
    if (u.search || u.hash || v.issuer.endsWith('/')) {
      problems.push(`issuer must have no query, fragment or trailing slash: ${v.issuer}`);
    }
  } catch {
    problems.push(`issuer is not an absolute URL: ${v.issuer}`);
  }
  if (!/^[A-Za-z0-9.[\]:-]+:\d{1,5}$/.test(v.listen)) problems.push(`listen must be host:port: ${v.listen}`);
  for (const o of v.allowedOrigins) {
    if (o === '*') continue;
    let origin: string | undefined;
    try {
      origin = new URL(o).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== o) problems.push(`allowed origin must be a bare origin (scheme://host[:port]) or "*": ${o}`);
  }
  if (!/^(\d+(ns|us|ms|s|m|h))+$/.test(v.idTokenLifetime)) {
    problems.push(`idTokenLifetime must be a Go duration such as 10m: ${v.idTokenLifetime}`);
  }
  for (const [name, id] of [['clientId', v.clientId], ['audienceClientId', v.audienceClientId]] as const) {
    if (!/^[A-Za-z0-9._-]+$/.test(id)) problems.push(`${name} must be a client id (letters, digits, . _ -): ${id}`);
  }
  if (problems.length > 0) throw new DexConfigError(problems);
}

/** Fills the template; every value is emitted as a JSON string, which YAML reads as a plain string. */
export function renderDexConfig(
  values: DexConfigValues = DEX_DEFAULTS,
  template: string = readFileSync(DEX_TEMPLATE_PATH, 'utf8'),
): string {
  checkValues(values);
  const slots: Record<string, string> = {
    issuer: JSON.stringify(values.issuer),
    listen: JSON.stringify(values.listen),
    allowedOrigins: JSON.stringify(values.allowedOrigins),
    idTokenLifetime: JSON.stringify(values.idTokenLifetime),
    clientId: JSON.stringify(values.clientId),
    audienceClientId: JSON.stringify(values.audienceClientId),
  };
  const out = template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const slot = slots[name];
    if (slot === undefined) throw new DexConfigError([`the template names an unknown slot ${whole}`]);
    return slot;
  });
  return out;
}

/** Reads DEX_ISSUER, DEX_LISTEN, DEX_ALLOWED_ORIGINS (comma list), DEX_ID_TOKEN_LIFETIME over the defaults. */
export function dexConfigValuesFromEnv(env: NodeJS.ProcessEnv): DexConfigValues {
  const origins = env.DEX_ALLOWED_ORIGINS;
  return Object.freeze({
    issuer: env.DEX_ISSUER || DEX_DEFAULTS.issuer,
    listen: env.DEX_LISTEN || DEX_DEFAULTS.listen,
    allowedOrigins: origins
      ? Object.freeze(origins.split(',').map((s) => s.trim()).filter((s) => s !== ''))
      : DEX_DEFAULTS.allowedOrigins,
    idTokenLifetime: env.DEX_ID_TOKEN_LIFETIME || DEX_DEFAULTS.idTokenLifetime,
    clientId: DEX_DEFAULTS.clientId,
    audienceClientId: DEX_DEFAULTS.audienceClientId,
  });
}

if (import.meta.filename === process.argv[1]) {
  const yaml = renderDexConfig(dexConfigValuesFromEnv(process.env));
  const out = process.argv[2];
  if (out) writeFileSync(out, yaml);
  else process.stdout.write(yaml);
}
