/**
 * Real Dex behind real authz-metadata:
 *
 *   client ──► authz-metadata (public origin, serves RFC 8414 for Dex) ──► Dex (web.http, issuer on the public origin)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEX_DEFAULTS, renderDexConfig, type DexConfigValues } from '../../../scripts/dex-config.ts';
import { renderDexMetadataDocument } from '../../../scripts/dex-metadata.ts';
import { startService, type Service } from '../children.ts';
import { provision, type Provisioned } from '../provision.ts';
import { repoPath } from '../repo.ts';

export { dexClientIds } from '../../../scripts/dex-config.ts';

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
  /** Quirks authz-metadata applies in front of Dex (AUTHZ_METADATA_QUIRKS). */
  readonly quirks?: readonly string[];
  /** The CLI's public client and the RS's audience client (dexClientIds of the profile); default profiles/dex.json's. */
  readonly clients?: Pick<DexConfigValues, 'clientId' | 'audienceClientId'>;
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

/**
 * Dex builds its discovery document before its first key rotation, so on an empty storage (ours is `memory`: empty at
 * every start) it logs `ERROR failed to get signing algorithm: no signing key found` once, falls back to advertising
 * RS256, and then makes an RS256 key. Harmless and not configurable (dexidp/dex server.go: discoveryHandler before
 * signer.Start); dropped during start-up only, so the same message from a token request still shows.
 */
function isSigningKeyNoise(line: string): boolean {
  return line.includes('"failed to get signing algorithm"') && line.includes('no signing key found');
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
      ...opts.clients,
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
        {
          name: 'dex',
          command: opts.dexBin,
          args: ['serve', configPath],
          env: {},
          readyUrl: `${dexOrigin}/dex/keys`,
          startupNoise: isSigningKeyNoise,
        },
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
            AUTHZ_METADATA_QUIRKS: (opts.quirks ?? []).join(','),
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
