/**
 * Real Dex behind real authz-metadata, on free loopback ports, for integration tests.
 *
 *   client ──► authz-metadata (public origin, serves RFC 8414 for Dex) ──► Dex (web.http, issuer on the public origin)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDexConfig, DEX_DEFAULTS } from '../../scripts/dex-config.ts';
import { renderDexMetadataDocument } from '../../scripts/dex-metadata.ts';
import { freePort } from './free-port.ts';
import { startProcess, type RunningProcess } from './processes.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export type DexBinary = { readonly available: true; readonly path: string } | { readonly available: false; readonly reason: string };

/** Finds the Dex binary through scripts/ensure-dex.sh (DEX_BIN wins); never throws. */
export function findDexBinary(): DexBinary {
  try {
    const path = execFileSync('bash', [join(REPO, 'scripts/ensure-dex.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
    }).trim();
    return { available: true, path };
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    return { available: false, reason: stderr || (err as Error).message };
  }
}

export interface DexStackOptions {
  readonly dexBin: string;
  /** false starts authz-metadata as a pure proxy (AUTHZ_METADATA_ENABLED=false). */
  readonly metadataEnabled?: boolean;
  readonly allowedOrigins?: readonly string[];
}

export interface DexStack {
  /** Dex's issuer, on the public origin: `http://127.0.0.1:<port>/dex`. */
  readonly issuer: string;
  /** authz-metadata's origin, which clients use. */
  readonly publicOrigin: string;
  /** Dex's own listener, behind the proxy (for tests that need to bypass it). */
  readonly dexOrigin: string;
  /** Both processes' output so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts Dex, then authz-metadata in front of it; resolves once both answer through the public origin. */
export async function startDexStack(opts: DexStackOptions): Promise<DexStack> {
  const [publicPort, dexPort] = await Promise.all([freePort(), freePort()]);
  const publicOrigin = `http://127.0.0.1:${publicPort}`;
  const issuer = `${publicOrigin}/dex`;
  const dexOrigin = `http://127.0.0.1:${dexPort}`;

  const dir = mkdtempSync(join(tmpdir(), 'mcp-lab-dex-'));
  const configPath = join(dir, 'config.yaml');
  const documentPath = join(dir, 'dex-metadata.json');
  writeFileSync(
    configPath,
    renderDexConfig({
      ...DEX_DEFAULTS,
      issuer,
      listen: `127.0.0.1:${dexPort}`,
      allowedOrigins: opts.allowedOrigins ?? DEX_DEFAULTS.allowedOrigins,
    }),
  );
  writeFileSync(documentPath, renderDexMetadataDocument(issuer));

  const running: RunningProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(running.splice(0).reverse().map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // /keys answers 500 until Dex has made its first signing key: ready means tokens can be verified.
    running.push(
      await startProcess({ command: opts.dexBin, args: ['serve', configPath], readyUrl: `${dexOrigin}/dex/keys` }),
    );
    running.push(
      await startProcess({
        command: process.execPath,
        args: [join(REPO, 'authz-metadata/src/main.ts')],
        env: {
          AUTHZ_METADATA_HOST: '127.0.0.1',
          AUTHZ_METADATA_PORT: String(publicPort),
          AUTHZ_METADATA_UPSTREAM: dexOrigin,
          AUTHZ_METADATA_ISSUER: issuer,
          AUTHZ_METADATA_DOCUMENT: documentPath,
          AUTHZ_METADATA_ENABLED: opts.metadataEnabled === false ? 'false' : 'true',
          AUTHZ_METADATA_LOG_LEVEL: 'warn',
        },
        readyUrl: `${publicOrigin}/dex/keys`,
      }),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const procs = [...running];
  return {
    issuer,
    publicOrigin,
    dexOrigin,
    output: () => procs.map((p) => p.output()).join('\n'),
    stop,
  };
}
