/**
 * Real Dex behind real authz-metadata:
 *
 *   client ──► authz-metadata (public origin, serves RFC 8414 for Dex) ──► Dex (web.http, issuer on the public origin)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEX_DEFAULTS, renderDexConfig } from '../../../scripts/dex-config.ts';
import { renderDexMetadataDocument } from '../../../scripts/dex-metadata.ts';
import { startService, type Service } from '../children.ts';
import { provision, type Provisioned } from '../provision.ts';
import { repoPath } from '../repo.ts';

export type DexBinary = Provisioned;

/** Finds the Dex binary through scripts/ensure-dex.sh (DEX_BIN wins; builds it once when Go is there); never throws. */
export function findDexBinary(): DexBinary {
  return provision('ensure-dex.sh');
}

export interface DexOptions {
  readonly dexBin: string;
  /** authz-metadata's port: Dex's public origin. */
  readonly publicPort: number;
  /** Dex's own listener, behind the proxy. */
  readonly dexPort: number;
  /** false starts authz-metadata as a pure proxy (AUTHZ_METADATA_ENABLED=false). */
  readonly metadataEnabled?: boolean;
  readonly allowedOrigins?: readonly string[];
  /** Where both processes' output goes. */
  readonly log: NodeJS.WritableStream;
}

export interface RunningDex {
  /** Dex's issuer, on the public origin: `http://127.0.0.1:<publicPort>/dex`. */
  readonly issuer: string;
  readonly publicOrigin: string;
  readonly dexOrigin: string;
  stop(): Promise<void>;
}

/** Starts Dex with a rendered configuration, then authz-metadata in front of it; resolves once both answer. */
export async function startDex(opts: DexOptions): Promise<RunningDex> {
  const publicOrigin = `http://127.0.0.1:${opts.publicPort}`;
  const issuer = `${publicOrigin}/dex`;
  const dexOrigin = `http://127.0.0.1:${opts.dexPort}`;
  const dir = mkdtempSync(join(tmpdir(), 'mcp-lab-dex-'));
  const configPath = join(dir, 'config.yaml');
  const documentPath = join(dir, 'dex-metadata.json');
  writeFileSync(
    configPath,
    renderDexConfig({
      ...DEX_DEFAULTS,
      issuer,
      listen: `127.0.0.1:${opts.dexPort}`,
      allowedOrigins: opts.allowedOrigins ?? DEX_DEFAULTS.allowedOrigins,
    }),
  );
  writeFileSync(documentPath, renderDexMetadataDocument(issuer));

  const running: Service[] = [];
  const stop = async (): Promise<void> => {
    for (const s of running.splice(0).reverse()) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // /keys answers 500 until Dex has made its first signing key: ready means tokens can be verified.
    running.push(
      await startService(
        { name: 'dex', command: opts.dexBin, args: ['serve', configPath], env: {}, readyUrl: `${dexOrigin}/dex/keys` },
        opts.log,
      ),
    );
    running.push(
      await startService(
        {
          name: 'authz-metadata',
          command: process.execPath,
          args: [repoPath('authz-metadata/src/main.ts')],
          env: {
            AUTHZ_METADATA_HOST: '127.0.0.1',
            AUTHZ_METADATA_PORT: String(opts.publicPort),
            AUTHZ_METADATA_UPSTREAM: dexOrigin,
            AUTHZ_METADATA_ISSUER: issuer,
            AUTHZ_METADATA_DOCUMENT: documentPath,
            AUTHZ_METADATA_ENABLED: opts.metadataEnabled === false ? 'false' : 'true',
            AUTHZ_METADATA_LOG_LEVEL: process.env.AUTHZ_METADATA_LOG_LEVEL ?? 'warn',
          },
          readyUrl: `${publicOrigin}/dex/keys`,
        },
        opts.log,
      ),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { issuer, publicOrigin, dexOrigin, stop };
}
