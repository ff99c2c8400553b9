/**
 * Renders dex/config.template.yaml into a Dex configuration file.
 *
 * Library: `renderDexConfig(values)` returns the YAML text (the integration harness writes it to a temp dir with
 * free ports). Command line: `node scripts/dex-config.ts [out-file]` renders with the values from the environment
 * (DEX_ISSUER, DEX_LISTEN, DEX_ALLOWED_ORIGINS, DEX_ID_TOKEN_LIFETIME) and writes to out-file or stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_RS_ORIGIN, loadProfile, profileIssuer, type Profile } from '@mcp-lab/launcher/profile';
import { ConfigError, ConfigReader, parseUrl, splitList, type Env } from '@mcp-lab/protocol/config';

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
    throw new ConfigError('Dex', [`profile ${profile.name} is not a Dex profile (pre-registered client, audience-scope)`]);
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

/** The name each value goes by in a problem: the field (renderDexConfig) or the variable (from the environment). */
type ValueNames = Readonly<Record<keyof DexConfigValues, string>>;
const FIELD_NAMES: ValueNames = {
  issuer: 'issuer', listen: 'listen', allowedOrigins: 'allowedOrigins', idTokenLifetime: 'idTokenLifetime',
  clientId: 'clientId', audienceClientId: 'audienceClientId',
};
const ENV_NAMES: ValueNames = {
  issuer: 'DEX_ISSUER', listen: 'DEX_LISTEN', allowedOrigins: 'DEX_ALLOWED_ORIGINS', idTokenLifetime: 'DEX_ID_TOKEN_LIFETIME',
  clientId: 'profiles/dex.json registration.clientId', audienceClientId: 'profiles/dex.json audience.rsAccepts',
};

/** Checks every value (one ConfigError naming each bad one) and returns them frozen. */
function checkValues(v: DexConfigValues, names: ValueNames = FIELD_NAMES): DexConfigValues {
  const r = new ConfigReader('Dex', {});
  r.accept(names.issuer, parseUrl(v.issuer, { shape: 'issuer' }));
  r.check(names.listen, /^[A-Za-z0-9.[\]:-]+:\d{1,5}$/.test(v.listen), `must be host:port: ${v.listen}`);
  // Dex compares CORS origins as exact strings: each must be what a browser sends in Origin, or "*".
  for (const o of v.allowedOrigins) if (o !== '*') r.accept(names.allowedOrigins, parseUrl(o, { shape: 'origin' }));
  r.check(names.idTokenLifetime, /^(\d+(ns|us|ms|s|m|h))+$/.test(v.idTokenLifetime), `must be a Go duration such as 10m: ${v.idTokenLifetime}`);
  for (const key of ['clientId', 'audienceClientId'] as const) {
    r.check(names[key], /^[A-Za-z0-9._-]+$/.test(v[key]), `must be a client id (letters, digits, . _ -): ${v[key]}`);
  }
  return r.finish({ ...v, allowedOrigins: [...v.allowedOrigins] });
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
    if (slot === undefined) throw new ConfigError('Dex', [`the template names an unknown slot ${whole}`]);
    return slot;
  });
  return out;
}

/**
 * Reads DEX_ISSUER, DEX_LISTEN, DEX_ALLOWED_ORIGINS (comma list), DEX_ID_TOKEN_LIFETIME over the defaults; the client
 * ids always come from profiles/dex.json.
 * @throws ConfigError naming every bad variable.
 */
export function dexConfigValuesFromEnv(env: Env): DexConfigValues {
  const r = new ConfigReader('Dex', env);
  const origins = r.raw('DEX_ALLOWED_ORIGINS');
  return checkValues(
    {
      issuer: r.string('DEX_ISSUER', DEX_DEFAULTS.issuer),
      listen: r.string('DEX_LISTEN', DEX_DEFAULTS.listen),
      allowedOrigins: origins === undefined ? DEX_DEFAULTS.allowedOrigins : splitList(origins),
      idTokenLifetime: r.string('DEX_ID_TOKEN_LIFETIME', DEX_DEFAULTS.idTokenLifetime),
      clientId: DEX_DEFAULTS.clientId,
      audienceClientId: DEX_DEFAULTS.audienceClientId,
    },
    ENV_NAMES,
  );
}

if (import.meta.filename === process.argv[1]) {
  const yaml = renderDexConfig(dexConfigValuesFromEnv(process.env));
  const out = process.argv[2];
  if (out) writeFileSync(out, yaml);
  else process.stdout.write(yaml);
}
