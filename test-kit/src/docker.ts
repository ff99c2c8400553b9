/**
 * Docker for the container suites (tests/compose.test.ts, tests/testcontainers.test.ts): whether an engine answers,
 * which compose command to use, which images the lab runs, and a promise-returning command runner.
 *
 * Images: by default the official references (Dex from ghcr.io, the app built from docker/node-app.Dockerfile on the
 * official node:22 image). MCP_LAB_LOCAL_IMAGES=1 selects the images `scripts/build-local-images.sh` builds from this
 * machine's binaries for machines without registry access (.ci/run sets it); DEX_IMAGE and APP_IMAGE win over both.
 */
import { execFile, execFileSync } from 'node:child_process';

export const OFFICIAL_DEX_IMAGE = 'ghcr.io/dexidp/dex:v2.45.1';
export const LOCAL_DEX_IMAGE = 'mcp-lab/dex:v2.45.1';
export const LOCAL_APP_IMAGE = 'mcp-lab/app:local';
/** What docker-compose.yml tags the app image it builds (no public registry serves `localhost/`). */
export const OFFICIAL_APP_TAG = 'localhost/mcp-lab/app';

export interface LabImages {
  readonly dex: string;
  /** undefined: build docker/node-app.Dockerfile (the official route). */
  readonly app: string | undefined;
  /** true when the local images stand in for the registry's (no registry reachable; Ryuk cannot be pulled either). */
  readonly local: boolean;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes'].includes(v.toLowerCase());
}

/** The images the lab's containers run, from MCP_LAB_LOCAL_IMAGES, DEX_IMAGE and APP_IMAGE. */
export function labImages(env: NodeJS.ProcessEnv = process.env): LabImages {
  const local = truthy(env.MCP_LAB_LOCAL_IMAGES);
  return {
    dex: env.DEX_IMAGE || (local ? LOCAL_DEX_IMAGE : OFFICIAL_DEX_IMAGE),
    app: env.APP_IMAGE || (local ? LOCAL_APP_IMAGE : undefined),
    local,
  };
}

/**
 * How the engine says a host port it was asked to publish is in use (docker-proxy's bind, or its own allocator).
 * Suites pick free ports some seconds before the engine binds them and may retry on this.
 */
export const PORT_TAKEN = /address already in use|port is already allocated/i;

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** Runs a command to its end; never rejects for a non-zero exit (the caller asserts on `code`). */
export function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          // Not an exit status: the command is missing or was killed by the timeout.
          reject(new Error(`${command} ${args.join(' ')}: ${err.message}\n${stderr}`, { cause: err }));
          return;
        }
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
  });
}

function answers(command: string, args: readonly string[], timeoutMs = 20_000): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs }).trim();
  } catch {
    // A missing command, a daemon that does not answer or a missing image: the caller turns this into a reason.
    return undefined;
  }
}

export type DockerStatus = { readonly available: true } | { readonly available: false; readonly reason: string };

/**
 * Whether a Docker engine answers and the images can be had: the local ones must exist (they are never pulled); the
 * official Dex image is pulled now when absent, so that a machine without registry access skips (or, in CI, fails)
 * with a reason instead of failing inside compose.
 */
export function dockerStatus(images: LabImages): DockerStatus {
  if (!answers('docker', ['version', '--format', '{{.Server.Version}}'])) {
    return { available: false, reason: 'no Docker engine answers (bash scripts/ensure-docker.sh starts one)' };
  }
  if (images.local) {
    const missing = [images.dex, images.app].filter((i): i is string => i !== undefined && !answers('docker', ['image', 'inspect', i]));
    if (missing.length > 0) {
      return { available: false, reason: `MCP_LAB_LOCAL_IMAGES is set but ${missing.join(', ')} is missing (bash scripts/build-local-images.sh)` };
    }
  } else if (!answers('docker', ['image', 'inspect', images.dex]) && answers('docker', ['pull', '-q', images.dex], 300_000) === undefined) {
    return {
      available: false,
      reason: `cannot pull ${images.dex} (no registry access? bash scripts/build-local-images.sh, then MCP_LAB_LOCAL_IMAGES=1)`,
    };
  }
  return { available: true };
}

/**
 * The compose command: MCP_LAB_COMPOSE (e.g. "docker compose") when set, else Debian's `docker-compose` (1.29),
 * else the v2 plugin `docker compose`. undefined when there is none.
 */
export function composeCommand(env: NodeJS.ProcessEnv = process.env): readonly string[] | undefined {
  const candidates = env.MCP_LAB_COMPOSE ? [env.MCP_LAB_COMPOSE.split(/\s+/).filter(Boolean)] : [['docker-compose'], ['docker', 'compose']];
  return candidates.find(([cmd, ...args]) => cmd !== undefined && answers(cmd, [...args, 'version']) !== undefined);
}

/** Ids of every container, running or not, that carries the label `key=value`. */
export async function containersWithLabel(key: string, value: string): Promise<string[]> {
  const ps = await run('docker', ['ps', '-aq', '--filter', `label=${key}=${value}`]);
  if (ps.code !== 0) throw new Error(`docker ps failed: ${ps.stderr}`);
  return ps.stdout.split('\n').filter(Boolean);
}
