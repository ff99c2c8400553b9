/**
 * mcp-lab-client as a subprocess with `--json`: one parsed step event per stdout line.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StepEvent } from 'mcp-lab-client/events';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One `--json` line: the client's step event, declared once in the client package. */
export type StepLine = StepEvent;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  events: StepLine[];
  /** Step names in order, failed ones suffixed `:fail`. */
  steps: string[];
}

/** Step events from `--json` output; lines that are not JSON objects (e.g. compose's own chatter) are ignored. */
export function parseSteps(stdout: string): StepLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StepLine);
}

/** A finished CLI run (on the host or in a container) from its exit code and output. */
export function cliRun(code: number | null, stdout: string, stderr: string): CliRun {
  const events = parseSteps(stdout);
  return { code, stdout, stderr, events, steps: events.map((e) => (e.status === 'ok' ? e.step : `${e.step}:fail`)) };
}

export interface RunCliOptions {
  /** The entry point: `bin.ts` (the source, default) or `bin.mjs` (the installed one, the bundle when built). */
  readonly entry?: 'bin.ts' | 'bin.mjs';
}

/** Runs `mcp-lab-client <args> --json` on the host and collects its step events (conformance mode explicitly off). */
export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}, opts: RunCliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${ROOT}mcp-client/${opts.entry ?? 'bin.ts'}`, ...args, '--json'], {
      cwd: ROOT,
      env: { ...process.env, MCP_CONFORMANCE_SCENARIO: '', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve(cliRun(code, stdout, stderr)));
  });
}

/** The text of the first successful tools-call result ('' when there is none). */
export function toolText(run: CliRun): string {
  const call = run.events.find((e) => e.step === 'tools-call' && e.status === 'ok');
  const content = call?.data.content as { type: string; text: string }[] | undefined;
  return content?.[0]?.text ?? '';
}
