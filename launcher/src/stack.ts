/**
 * One lab: an IdP chosen by a profile, and the MCP resource server configured for it. `npm start` and the
 * integration tests bring the stack up through this one function, so what is tested is what users run.
 */
import { freePort } from './free-port.ts';
import { startService, type Service, type ServiceSpec } from './children.ts';
import { dexClientIds, findDexBinary, startDex } from './idp/dex.ts';
import { startEmbedded } from './idp/embedded.ts';
import { startKeycloakIdp } from './idp/keycloak.ts';
import { keycloakRealmValues } from './idp/keycloak-realm.ts';
import { repoPath } from './repo.ts';
import { profileClientArgs, profileDoctorArgs, profileIssuer, profileRsEnv, profileWebEnv, rsAudiences, type Profile } from './profile.ts';
import { labQuirks, quirksOf, startQuirkFront, type QuirkName } from './quirks.ts';

const RS_MAIN = repoPath('mcp-server/src/main.ts');
const WEB_MAIN = repoPath('web/src/main.ts');

export interface LabOptions {
  /** RS port; 0 or absent in tests picks a free one. The launcher passes 3000. */
  readonly rsPort?: number;
  /** IdP (public) port; absent picks a free one. The launcher passes the profile's default. */
  readonly idpPort?: number;
  /**
   * Extra RS environment on top of the profile's (e.g. MCP_AUDIENCE for a negative test); `undefined` removes a
   * profile variable. MCP_HOST, MCP_PORT and MCP_PUBLIC_URL are the launcher's.
   */
  readonly rsEnv?: Readonly<Record<string, string | undefined>>;
  /** Embedded only: extra IdP environment (e.g. IDP_ACCESS_TOKEN_TTL_S). */
  readonly idpEnv?: Readonly<Record<string, string>>;
  /** Dex only: false serves no RFC 8414 document (clients fall back to OpenID discovery). */
  readonly metadataEnabled?: boolean;
  /** Dex only: the binary (default: scripts/ensure-dex.sh). */
  readonly dexBin?: string;
  /** Keycloak only: its home (default: scripts/ensure-keycloak.sh). */
  readonly keycloakHome?: string;
  /** Dex only: Dex's own listener behind authz-metadata; absent picks a free one. */
  readonly dexPort?: number;
  /**
   * Also serve the browser client (web/) on this port (0 picks a free one); its origin becomes an allowed origin
   * of the RS and of the IdP's CORS. Absent: no browser client (it costs a bundle build at start).
   */
  readonly webPort?: number;
  /** Quirks on top of the profile's (`--quirk`); see the quirk catalogue. */
  readonly quirks?: readonly QuirkName[];
  /** Where every service's output goes, each line prefixed with its name. */
  readonly log: NodeJS.WritableStream;
}

export interface Lab {
  readonly profile: Profile;
  readonly issuer: string;
  /** The RS origin; MCP endpoints at `/mcp` (Streamable HTTP) and `/sse` (HTTP+SSE). */
  readonly rsUrl: string;
  /** Options for `mcp-lab-client` that this profile implies. */
  readonly clientArgs: readonly string[];
  /** Options for `mcp-lab-client doctor` that this profile implies (clientArgs and the second audience). */
  readonly doctorArgs: readonly string[];
  /** The browser client's page, when `webPort` was given. */
  readonly webUrl: string | undefined;
  /** The quirks applied (profile and options together). */
  readonly quirks: readonly QuirkName[];
  /** Stops the RS, then the IdP. Safe to call twice. */
  stop(): Promise<void>;
}

interface RunningIdp {
  readonly issuer: string;
  stop(): Promise<void>;
}

async function startIdp(profile: Profile, idpPort: number, rsUrl: string, webUrl: string | undefined, opts: LabOptions, quirks: readonly QuirkName[]): Promise<RunningIdp> {
  const asQuirks = quirksOf('as', quirks);
  if (asQuirks.length > 0 && profile.idp.kind !== 'embedded' && profile.idp.kind !== 'dex') {
    throw new Error(`quirks ${asQuirks.join(', ')} are applied in front of the embedded IdP or Dex; the ${profile.idp.kind} profile has no quirk layer yet`);
  }
  switch (profile.idp.kind) {
    case 'embedded':
      return asQuirks.length > 0 ? startFrontedEmbedded(profile, idpPort, rsUrl, opts, asQuirks) : startEmbedded({
        port: idpPort,
        // resource-indicator (parseProfile): the IdP issues tokens for the resources the RS accepts, and for the
        // profile's second audience, which the RS must refuse (doctor's token-foreign-audience check).
        resources: [...rsAudiences(profile, rsUrl), ...(profile.audience.foreign === undefined ? [] : [profile.audience.foreign])],
        ...(opts.idpEnv === undefined ? {} : { env: opts.idpEnv }),
        log: opts.log,
      });
    case 'dex': {
      return startDex({
        dexBin: opts.dexBin ?? dexBinary(),
        publicPort: idpPort,
        dexPort: opts.dexPort || (await freePort()),
        allowedOrigins: webUrl === undefined ? [rsUrl] : [rsUrl, webUrl],
        clients: dexClientIds(profile),
        quirks: asQuirks,
        ...(opts.metadataEnabled === undefined ? {} : { metadataEnabled: opts.metadataEnabled }),
        log: opts.log,
      });
    }
    case 'keycloak':
      return startKeycloakIdp({
        port: idpPort,
        realm: { ...keycloakRealmValues(profile, rsUrl), ...(webUrl === undefined ? {} : { webOrigins: [webUrl] }) },
        ...(opts.keycloakHome === undefined ? {} : { home: opts.keycloakHome }),
        log: opts.log,
      });
    case 'external':
      return { issuer: profile.idp.issuer, stop: async () => {} };
  }
}

/** The embedded IdP on a port of its own, behind the quirk layer on the public port (the issuer's origin). */
async function startFrontedEmbedded(profile: Profile, publicPort: number, rsUrl: string, opts: LabOptions, quirks: readonly QuirkName[]): Promise<RunningIdp> {
  const issuer = profileIssuer(profile, `http://127.0.0.1:${publicPort}`);
  const internalPort = await freePort();
  const idp = await startEmbedded({
    port: internalPort,
    issuer,
    resources: rsAudiences(profile, rsUrl),
    ...(opts.idpEnv === undefined ? {} : { env: opts.idpEnv }),
    log: opts.log,
  });
  try {
    const front = await startQuirkFront({ layer: 'as', publicPort, upstream: `http://127.0.0.1:${internalPort}`, issuer, quirks, log: opts.log });
    return {
      issuer,
      stop: async () => {
        await front.stop();
        await idp.stop();
      },
    };
  } catch (err) {
    await idp.stop();
    throw err;
  }
}

function dexBinary(): string {
  const dex = findDexBinary();
  if (!dex.available) throw new Error(`the dex profile needs a Dex binary: ${dex.reason}`);
  return dex.path;
}

/** The RS environment with `undefined` entries (removals) dropped. */
function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Where the RS is reached and listens, and what it trusts; decided by startLab before the RS starts. */
interface RsPlacement {
  readonly issuer: string;
  readonly rsUrl: string;
  readonly webUrl: string | undefined;
  /** The RS's own port: the public one, or a private one behind the RS quirk layer. */
  readonly listenPort: number;
}

/** The RS child process: the profile's environment, then the caller's, then the launcher's own placement. */
function rsServiceSpec(profile: Profile, opts: LabOptions, at: RsPlacement): ServiceSpec {
  const { issuer, rsUrl, webUrl, listenPort } = at;
  return {
    name: 'mcp-server',
    command: process.execPath,
    args: [RS_MAIN],
    env: definedEnv({
      MCP_LOG_LEVEL: process.env.MCP_LOG_LEVEL ?? 'warn',
      ...profileRsEnv(profile, issuer, rsUrl),
      // The page's origin may make cookie requests (CSRF rule) and open MCP sessions (Origin validation).
      ...(webUrl === undefined ? {} : { MCP_ALLOWED_ORIGINS: `${rsUrl},${webUrl}` }),
      ...opts.rsEnv,
      MCP_HOST: '127.0.0.1',
      MCP_PORT: String(listenPort),
      MCP_PUBLIC_URL: rsUrl,
    }),
    readyUrl: `http://127.0.0.1:${listenPort}/.well-known/oauth-protected-resource`,
  };
}

/** The browser client's child process, serving webUrl against the RS at rsUrl. */
function webServiceSpec(profile: Profile, webUrl: string, rsUrl: string): ServiceSpec {
  return {
    name: 'web',
    command: process.execPath,
    args: [WEB_MAIN],
    env: {
      WEB_HOST: '127.0.0.1',
      WEB_PORT: new URL(webUrl).port,
      WEB_PUBLIC_URL: webUrl,
      WEB_RS_URL: rsUrl,
      WEB_LOG_LEVEL: process.env.WEB_LOG_LEVEL ?? 'warn',
      ...profileWebEnv(profile),
    },
    readyUrl: `${webUrl}/lab.json`,
    // The page's bundle is built at start (esbuild, a few seconds on a busy machine).
    readyTimeoutMs: 120_000,
  };
}

/** Starts the profile's IdP (unless external) and the RS trusting it; resolves once both answer HTTP. */
export async function startLab(profile: Profile, opts: LabOptions): Promise<Lab> {
  const rsPort = opts.rsPort || (await freePort());
  const idpPort = opts.idpPort || (await freePort());
  const rsUrl = `http://127.0.0.1:${rsPort}`;
  const webUrl = opts.webPort === undefined ? undefined : `http://127.0.0.1:${opts.webPort || (await freePort())}`;
  const quirks = labQuirks(profile.quirks, opts.quirks);
  const rsQuirks = quirksOf('rs', quirks);
  const idp = await startIdp(profile, idpPort, rsUrl, webUrl, opts, quirks);
  const issuer = profile.idp.kind === 'external' ? idp.issuer : profileIssuer(profile, new URL(idp.issuer).origin);
  // With RS quirks the RS listens on a port of its own and the quirk layer takes the public one.
  const rsListenPort = rsQuirks.length > 0 ? await freePort() : rsPort;
  let rs: Service;
  let rsFront: Service | undefined;
  try {
    rs = await startService(rsServiceSpec(profile, opts, { issuer, rsUrl, webUrl, listenPort: rsListenPort }), opts.log);
  } catch (err) {
    await idp.stop();
    throw err;
  }
  if (rsQuirks.length > 0) {
    try {
      rsFront = await startQuirkFront({ layer: 'rs', publicPort: rsPort, upstream: `http://127.0.0.1:${rsListenPort}`, issuer, quirks: rsQuirks, log: opts.log });
    } catch (err) {
      await rs.stop();
      await idp.stop();
      throw err;
    }
  }
  let web: Service | undefined;
  if (webUrl !== undefined) {
    try {
      web = await startService(webServiceSpec(profile, webUrl, rsUrl), opts.log);
    } catch (err) {
      await rsFront?.stop();
      await rs.stop();
      await idp.stop();
      throw err;
    }
  }
  let stopped = false;
  return {
    profile,
    issuer,
    rsUrl,
    clientArgs: profileClientArgs(profile),
    doctorArgs: profileDoctorArgs(profile),
    webUrl,
    quirks,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await web?.stop();
      await rsFront?.stop();
      await rs.stop();
      await idp.stop();
    },
  };
}
