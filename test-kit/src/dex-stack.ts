/**
 * Real Dex behind real authz-metadata, on free loopback ports, for integration tests (the launcher's own code,
 * launcher/src/idp/dex.ts, with output captured instead of printed).
 */
import { captureSink, startDex } from '@mcp-lab/launcher';
import { freePort } from './free-port.ts';

export { findDexBinary, type DexBinary } from '@mcp-lab/launcher';

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
  const sink = captureSink();
  const [publicPort, dexPort] = await Promise.all([freePort(), freePort()]);
  try {
    const dex = await startDex({ ...opts, publicPort, dexPort, log: sink.stream });
    return { ...dex, output: sink.text };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- output ---\n${sink.text()}`, { cause: err });
  }
}
