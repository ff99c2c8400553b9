/**
 * A lab for a matrix test file: the launcher's own code (launcher/src/stack.ts) with a profile, output captured.
 * Keycloak is slow to start on small machines, so each Keycloak test file starts one and shares it across its cells.
 */
import { captureSink, loadProfile, startLab, type Lab } from '@mcp-lab/launcher';

export interface MatrixLab {
  readonly lab: Lab;
  output(): string;
  stop(): Promise<void>;
}

export async function startProfileLab(profile: string, opts: { readonly dexBin?: string; readonly keycloakHome?: string } = {}): Promise<MatrixLab> {
  const sink = captureSink();
  try {
    const lab = await startLab(loadProfile(profile), {
      log: sink.stream,
      ...(opts.dexBin === undefined ? {} : { dexBin: opts.dexBin }),
      ...(opts.keycloakHome === undefined ? {} : { keycloakHome: opts.keycloakHome }),
    });
    return { lab, output: sink.text, stop: () => lab.stop() };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- output ---\n${sink.text().slice(-4000)}`, { cause: err });
  }
}
