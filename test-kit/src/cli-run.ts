/**
 * The CLI as the container suites use it: from the host with a fresh token store, and the Dex profile's login.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliRun } from './cli.ts';

export { cliRun, parseSteps, toolText, type CliRun, type StepLine } from './cli.ts';

/** Runs the CLI on the host with `--json` and a fresh token store (so every run is the full sequence). */
export async function runCliOnHost(args: readonly string[]): Promise<CliRun> {
  const store = await mkdtemp(join(tmpdir(), 'mcp-lab-cli-store-'));
  try {
    return await runCli([...args, '--store', store]);
  } finally {
    await rm(store, { recursive: true, force: true });
  }
}

/** The Dex profile's headless login as alice with the pre-registered public client. */
export const DEX_ALICE = ['--client-id', 'mcp-lab-cli', '--login', 'alice@example.com:alice-password', '--login-driver', 'dex'] as const;

/** The steps of a first run against the Dex lab (pre-registered client, no stored token). */
export const DEX_SEQUENCE = [
  'probe', 'resource-metadata', 'as-metadata', 'registration', 'authorize', 'callback', 'token', 'initialize', 'tools-list', 'tools-call',
] as const;
