/**
 * Real Keycloak (`kc.sh start-dev` through scripts/start-keycloak.sh) with the mcp-lab realm (keycloak/realm-mcp-lab.json)
 * imported into a per-run home. See keycloak/README.md.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../free-port.ts';
import { startService } from '../children.ts';
import { keycloakFeatures, renderKeycloakRealm, type RealmValues } from './keycloak-realm.ts';
import { provision, type Provisioned } from '../provision.ts';
import { repoPath } from '../repo.ts';

/** The realm keycloak/realm-mcp-lab.json defines. */
export const KEYCLOAK_REALM = 'mcp-lab';
/** Its public client: PKCE S256 enforced, redirect URIs http://127.0.0.1/* and http://localhost/* (any port). */
export const KEYCLOAK_CLIENT_ID = 'mcp-lab-cli';

/** The pinned Keycloak version (keycloak/VERSION; MCP_LAB_KEYCLOAK_VERSION overrides it, as in ensure-keycloak.sh). */
export function keycloakVersion(env: NodeJS.ProcessEnv = process.env): string {
  return env.MCP_LAB_KEYCLOAK_VERSION || readFileSync(repoPath('keycloak/VERSION'), 'utf8').trim();
}

/**
 * The Keycloak home that scripts/ensure-keycloak.sh has already provided (KEYCLOAK_HOME, or the cache entry marked
 * ready), or undefined. Never downloads: tests use this to decide whether they can run.
 */
export function cachedKeycloakHome(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KEYCLOAK_HOME) return existsSync(join(env.KEYCLOAK_HOME, 'bin/kc.sh')) ? env.KEYCLOAK_HOME : undefined;
  const cache = env.MCP_LAB_CACHE || join(env.HOME ?? '', '.cache/mcp-auth-lab');
  const version = keycloakVersion(env);
  const dir = join(cache, `keycloak-${version}`);
  const home = join(dir, `keycloak-${version}`);
  return existsSync(join(dir, '.ready')) && existsSync(join(home, 'bin/kc.sh')) ? home : undefined;
}

/** `path` is the Keycloak home. */
export type KeycloakDistribution = Provisioned;

/** Runs scripts/ensure-keycloak.sh (fetches ~170 MB once, needs Java and Maven); never throws. */
export function ensureKeycloak(): KeycloakDistribution {
  return provision('ensure-keycloak.sh');
}

export interface KeycloakIdpOptions {
  /** HTTP port on 127.0.0.1. */
  readonly port: number;
  /** RS origin whose identifiers (origin, /mcp, /sse) the realm's audience mappers put into `aud`. */
  readonly rsUrl?: string;
  /** The realm's client and audiences (keycloakRealmValues of the profile); wins over rsUrl. */
  readonly realm?: RealmValues;
  /** A Keycloak home; absent runs scripts/ensure-keycloak.sh (which may download it). */
  readonly home?: string;
  /** JVM start, H2 schema and realm import take 15-60 s (a Quarkus re-build for a variant's features: minutes); default 240 s, 540 s with features. */
  readonly readyTimeoutMs?: number;
  /** Where Keycloak's output goes, each line prefixed with `[keycloak]`. */
  readonly log: NodeJS.WritableStream;
}

export interface RunningKeycloakIdp {
  /** `http://127.0.0.1:<port>/realms/mcp-lab`, exactly the `iss` of its tokens. */
  readonly issuer: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGTERM (Keycloak stops in 1-2 s), reaps the JVM if it outlived its script, removes the run directory. */
  stop(): Promise<void>;
}

/** Starts Keycloak and resolves once the realm's OpenID discovery document and JWKS answer 200. */
export async function startKeycloakIdp(opts: KeycloakIdpOptions): Promise<RunningKeycloakIdp> {
  let home = opts.home;
  if (home === undefined) {
    const dist = ensureKeycloak();
    if (!dist.available) throw new Error(`the keycloak profile needs a Keycloak distribution: ${dist.reason}`);
    home = dist.path;
  }
  const url = `http://127.0.0.1:${opts.port}`;
  const issuer = `${url}/realms/${KEYCLOAK_REALM}`;
  const discovery = `${issuer}/.well-known/openid-configuration`;
  const features = opts.realm === undefined ? [] : keycloakFeatures(opts.realm.variant);
  const readyTimeoutMs = opts.readyTimeoutMs ?? (features.length > 0 ? 540_000 : 240_000);
  const runDir = mkdtempSync(join(tmpdir(), 'mcp-lab-keycloak-'));
  const args = [
    repoPath('scripts/start-keycloak.sh'),
    ...['--port', String(opts.port), '--management-port', String(await freePort()), '--run-dir', runDir],
    ...(opts.rsUrl === undefined ? [] : ['--rs-url', opts.rsUrl]),
    ...(opts.realm === undefined ? [] : ['--realm', writeRealm(runDir, opts.realm)]),
    ...(features.length > 0 ? ['--features', features.join(',')] : []),
  ];
  let svc;
  try {
    svc = await startService(
      { name: 'keycloak', command: 'bash', args, env: { KEYCLOAK_HOME: home }, readyUrl: discovery, readyTimeoutMs },
      opts.log,
    );
  } catch (err) {
    rmSync(runDir, { recursive: true, force: true });
    throw err;
  }
  const child = svc.child;
  const stop = async (): Promise<void> => {
    // startService escalates to SIGKILL after a few seconds, which would orphan the JVM below kc.sh: note it first.
    const below = child.pid === undefined ? [] : descendants(child.pid).map((pid) => ({ pid, cmdline: cmdline(pid) }));
    await svc.stop();
    // Only a process that still runs the same command line is ours (pids can be reused).
    for (const p of below) if (p.cmdline !== undefined && cmdline(p.pid) === p.cmdline) killIfAlive(p.pid);
    rmSync(runDir, { recursive: true, force: true });
  };
  // Only a 200 proves the realm is there (an unknown realm answers 404, which startService counts as ready). The
  // JWKS is fetched once too: the first answers of a cold JVM are slow, and a resource server's first key fetch
  // (a few seconds' timeout) should not be the one that pays for it.
  const deadline = Date.now() + readyTimeoutMs;
  for (const probe of [discovery, `${issuer}/protocol/openid-connect/certs`]) {
    for (;;) {
      const res = await fetch(probe, { signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => err as Error);
      if (!(res instanceof Error)) {
        await res.body?.cancel();
        if (res.status === 200) break;
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${probe} did not answer 200 within ${readyTimeoutMs} ms`);
      }
      await sleep(250);
    }
  }
  if (features.length > 0) keepFeatureBuild(home, runDir, features);
  return { issuer, url, child, stop };
}

/**
 * After a start with features, keeps its Quarkus build next to the cached distribution (start-keycloak.sh copies it
 * into the next such run instead of re-building: minutes on a small machine). Written once, by rename, so a
 * concurrent run sees either no build or a whole one; the shared lib/quarkus is never touched.
 */
function keepFeatureBuild(home: string, runDir: string, features: readonly string[]): void {
  const kept = join(dirname(home), `quarkus-features-${features.join('-')}`);
  if (existsSync(join(kept, 'quarkus-application.dat'))) return;
  const tmp = `${kept}.${process.pid}.tmp`;
  cpSync(join(runDir, 'lib/quarkus'), tmp, { recursive: true });
  try {
    renameSync(tmp, kept);
  } catch (err) {
    // Another run kept its build first: the same build, so drop ours.
    rmSync(tmp, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function writeRealm(runDir: string, values: RealmValues): string {
  const file = join(runDir, 'realm.json');
  writeFileSync(file, renderKeycloakRealm(values));
  return file;
}

/** Process ids below `pid` (Linux /proc), parents before children. */
function descendants(pid: number): number[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch (err) {
    // Already gone, or not Linux: nothing left to reap.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const children = text.trim().split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((c) => [c, ...descendants(c)]);
}

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
