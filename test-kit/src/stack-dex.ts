/**
 * The whole Dex lab on free loopback ports — the launcher's own code (@mcp-lab/launcher, launcher/src/stack.ts with profiles/dex.json),
 * output captured — plus helpers for Dex tokens and for extra resource servers next to a lab.
 *
 *   client ──► RS (MCP_ISSUER = Dex's issuer, aud mcp-lab-rs, permissions from the email claim)
 *          └─► authz-metadata (public origin) ──► Dex
 *
 * Dex knows neither RFC 8707 resource indicators nor RS permissions as scopes, so the profile makes the RS's
 * 401 challenge name the scopes Dex needs to put `mcp-lab-rs` into `aud` (claim mode: challenge scope =
 * MCP_SCOPES_SUPPORTED). A client that follows the MCP spec and requests the challenge's `scope` gets a token
 * the RS accepts.
 */
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';
import { captureSink, loadProfile, profileRsEnv, startLab } from '@mcp-lab/launcher';
import { authorizationRequest, type AuthorizationRequest } from './authorization.ts';
import type { DexStack } from './dex-stack.ts';
import { freePort, freePorts } from './free-port.ts';
import { startProcess, type RunningProcess } from './processes.ts';
import { obtainToken } from './tokens.ts';

const RS_MAIN = fileURLToPath(new URL('../../mcp-server/src/main.ts', import.meta.url));

/** profiles/dex.json: every constant below is read from it, so the tests and `npm start -- --idp dex` agree. */
export const DEX_PROFILE = loadProfile('dex');

function fromProfile<T>(what: string, value: T | undefined): T {
  if (value === undefined) throw new Error(`profiles/dex.json lacks ${what}`);
  return value;
}

/** Dex's client id for the RS; the scope below makes Dex list it in `aud`. */
export const DEX_RS_AUDIENCE = fromProfile('audience.rsAccepts[0]', DEX_PROFILE.audience.rsAccepts[0]);
/** The scope that makes Dex issue a token for the RS (mcp-lab-cli is one of mcp-lab-rs's trusted peers). */
export const DEX_RS_AUDIENCE_SCOPE = fromProfile(
  `the scope audience:server:client_id:${DEX_RS_AUDIENCE} in scopesSupported`,
  DEX_PROFILE.scopesSupported.find((s) => s === `audience:server:client_id:${DEX_RS_AUDIENCE}`),
);
/** What the RS advertises (PRM scopes_supported and, in claim mode, the 401 challenge's `scope`). */
export const DEX_RS_SCOPES: readonly string[] = DEX_PROFILE.scopesSupported;
/** Everyone with a valid token reads; alice and bob write. */
export const DEX_PERMISSION_MAP = fromProfile('permissions.map', DEX_PROFILE.permissions.map);

/** The RS environment for a Dex issuer: the lab's Dex profile (no `{rs}` in it, so the RS origin does not matter). */
export function dexRsEnv(issuer: string, rsOrigin = 'http://127.0.0.1:3000'): Record<string, string> {
  return profileRsEnv(DEX_PROFILE, issuer, rsOrigin);
}

export interface DexLabOptions {
  /** Dex binary; default: scripts/ensure-dex.sh (throws when it is unavailable — check findDexBinary first). */
  readonly dexBin?: string;
  /** false starts authz-metadata as a pure proxy: no RFC 8414 document, clients must use OIDC discovery. */
  readonly metadataEnabled?: boolean;
  /**
   * RS environment on top of the Dex profile (e.g. MCP_ISSUER for an RS that trusts another issuer, MCP_AUDIENCE).
   * `undefined` removes a profile variable. MCP_HOST, MCP_PORT and MCP_PUBLIC_URL are set by the harness.
   */
  readonly rsEnv?: Readonly<Record<string, string | undefined>>;
}

export interface DexLab {
  /** Dex's issuer on the public origin, `http://127.0.0.1:<port>/dex`. */
  readonly issuer: string;
  /** authz-metadata's origin (what clients talk to for the AS). */
  readonly publicOrigin: string;
  /** The RS's public origin, `http://127.0.0.1:<port>` (MCP endpoint at `/mcp`, legacy SSE at `/sse`). */
  readonly rsUrl: string;
  /** The IdP side (Dex and authz-metadata). The lab owns every process: its `stop()` stops the whole lab. */
  readonly dex: DexStack;
  /** All three processes' output so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts Dex, authz-metadata and the RS; resolves once all three answer HTTP. */
export async function startDexLab(opts: DexLabOptions = {}): Promise<DexLab> {
  const sink = captureSink();
  const [idpPort, dexPort] = (await freePorts(2)) as [number, number];
  try {
    const lab = await startLab(DEX_PROFILE, {
      idpPort,
      dexPort,
      ...(opts.dexBin === undefined ? {} : { dexBin: opts.dexBin }),
      ...(opts.metadataEnabled === undefined ? {} : { metadataEnabled: opts.metadataEnabled }),
      ...(opts.rsEnv === undefined ? {} : { rsEnv: opts.rsEnv }),
      log: sink.stream,
    });
    const publicOrigin = new URL(lab.issuer).origin;
    const stop = () => lab.stop();
    return {
      issuer: lab.issuer,
      publicOrigin,
      rsUrl: lab.rsUrl,
      dex: { issuer: lab.issuer, publicOrigin, dexOrigin: `http://127.0.0.1:${dexPort}`, output: sink.text, stop },
      output: sink.text,
      stop,
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- output ---\n${sink.text()}`, { cause: err });
  }
}

export interface DexRsOptions {
  /** The Dex issuer the profile is built for. */
  readonly issuer: string;
  /** Default: a free port. */
  readonly port?: number;
  /** Overrides on top of the profile, as in DexLabOptions.rsEnv. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface DexRs {
  readonly rsUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts one RS process with the Dex profile for `issuer` (e.g. a second RS next to a running lab). */
export async function startDexRs(opts: DexRsOptions): Promise<DexRs> {
  const port = opts.port ?? (await freePort());
  const rsUrl = `http://127.0.0.1:${port}`;
  const rs: RunningProcess = await startProcess({
    command: process.execPath,
    args: [RS_MAIN],
    env: {
      ...dexRsEnv(opts.issuer, rsUrl),
      MCP_LOG_LEVEL: 'warn',
      ...opts.env,
      MCP_HOST: '127.0.0.1',
      MCP_PORT: String(port),
      MCP_PUBLIC_URL: rsUrl,
    },
    readyUrl: `${rsUrl}/.well-known/oauth-protected-resource`,
    name: 'mcp-server',
  });
  return { rsUrl, output: () => rs.output(), stop: () => rs.stop() };
}

/** Dex's pre-registered public client (no DCR), as oauth4webapi sees it. */
export const DEX_CLI_CLIENT: oauth.Client = {
  client_id: fromProfile(
    'registration.clientId',
    DEX_PROFILE.registration.method === 'pre-registered' ? DEX_PROFILE.registration.clientId : undefined,
  ),
  token_endpoint_auth_method: 'none',
};

/**
 * An authorization request for the Dex profile's public client: PKCE S256, `state`, a loopback redirect URI on a
 * free port (RFC 8252 §7.3: Dex accepts any port for this client).
 */
export function dexAuthorizationRequest(as: oauth.AuthorizationServer, scope: string): Promise<AuthorizationRequest> {
  if (as.authorization_endpoint === undefined) throw new Error(`${as.issuer} advertises no authorization_endpoint`);
  return authorizationRequest(as.authorization_endpoint, { clientId: DEX_CLI_CLIENT.client_id, scope });
}

/**
 * A Dex access token obtained the way a native client does (authorization code + PKCE S256 for mcp-lab-cli,
 * loopback redirect), with the headless password login instead of a browser. Discovery is OpenID Connect
 * (Dex's own document), so it works with authz-metadata's document on or off.
 */
export async function dexAccessToken(
  issuer: string,
  { scope, login, password }: { readonly scope: string; readonly login: string; readonly password: string },
): Promise<string> {
  const tokens = await obtainToken({ issuer, discovery: 'oidc', clientId: DEX_CLI_CLIENT.client_id, scope, username: login, password, driver: 'dex' });
  return tokens.access_token;
}
