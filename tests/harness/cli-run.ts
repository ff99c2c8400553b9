/**
 * mcp-lab-client's `--json` output (one step event per line, mcp-client/src/events.ts) read back for assertions, and
 * the CLI run from the host as a subprocess.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './docker.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'mcp-client', 'bin.ts');

export interface StepLine {
  readonly step: string;
  readonly status: 'ok' | 'fail';
  readonly http: readonly { method: string; url: string; status: number; headers: Record<string, string> }[];
  readonly checks: readonly { name: string; ok: boolean; detail?: string }[];
  readonly data: Record<string, unknown>;
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly events: readonly StepLine[];
  /** Step names in order, `name:fail` for failed ones. */
  readonly steps: readonly string[];
}

/** Parses `--json` output; lines that are not JSON objects (compose's own chatter) are ignored. */
export function parseSteps(stdout: string): StepLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StepLine);
}

/** A finished CLI run (on the host or in a container) from its exit code and output. */
export function cliRun(code: number, stdout: string, stderr: string): CliRun {
  const events = parseSteps(stdout);
  return { code, stdout, stderr, events, steps: events.map((e) => (e.status === 'ok' ? e.step : `${e.step}:fail`)) };
}

/** The text of the successful tools-call step's first content item ('' when there is none). */
export function toolText(r: CliRun): string {
  const call = r.events.find((e) => e.step === 'tools-call' && e.status === 'ok');
  const content = call?.data.content as { type: string; text: string }[] | undefined;
  return content?.[0]?.text ?? '';
}

/** Runs the CLI on the host with `--json` and a fresh token store (so every run is the full sequence). */
export async function runCliOnHost(args: readonly string[]): Promise<CliRun> {
  const store = await mkdtemp(join(tmpdir(), 'mcp-lab-cli-store-'));
  try {
    const r = await run(process.execPath, [BIN, ...args, '--json', '--store', store], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', MCP_CONFORMANCE_SCENARIO: '' },
      timeoutMs: 60_000,
    });
    return cliRun(r.code, r.stdout, r.stderr);
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
