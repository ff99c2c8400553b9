import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@mcp-lab/test-kit/free-port';
import type { StepEvent } from 'mcp-lab-client/events';
import type { BenchConfig } from '../config.ts';
import { startChild, type ChildServer } from '../proc.ts';
import { machineLine, median, renderTable, type Log } from '../report.ts';
import { CLI_BIN, IDP_MAIN, REPO_ROOT, RS_MAIN, rsEnv } from '../targets.ts';

const CLI_TIMEOUT_MS = 60_000;
const LOGIN = 'alice:alice-password';

/** One line of the CLI's `--json` output: its step event, declared once in the client package. */
type StepLine = StepEvent;

interface CliRun {
  readonly wallMs: number;
  readonly exitCode: number | null;
  readonly steps: readonly StepLine[];
  readonly httpRoundTrips: number;
  /** True when the run ended with a successful tools-call step and exit code 0. */
  readonly ok: boolean;
  readonly stderr: string;
}

/**
 * Scenario 3: the CLI end to end against the embedded IdP and the lab RS. Cold = empty token store: discovery,
 * registration, headless login, token, initialize, first tool result. Warm = the stored token, straight to the call.
 */
export async function runCli(config: BenchConfig, log: Log): Promise<{ report: string; valid: boolean }> {
  const missing = [CLI_BIN, IDP_MAIN, RS_MAIN].filter((f) => !existsSync(f)).map((f) => f.slice(REPO_ROOT.length));
  if (missing.length > 0) return { report: `CLI scenario: CLI not available (missing ${missing.join(', ')})`, valid: false };
  const loadBefore = loadavg();
  const idpPort = await freePort();
  const rsPort = await freePort();
  const issuer = `http://127.0.0.1:${idpPort}`;
  const rsOrigin = `http://127.0.0.1:${rsPort}`;
  const servers: ChildServer[] = [];
  const stores: string[] = [];
  try {
    servers.push(
      await startChild({
        name: 'embedded-idp',
        script: IDP_MAIN,
        env: {
          IDP_ISSUER: issuer,
          IDP_HOST: '127.0.0.1',
          IDP_PORT: String(idpPort),
          IDP_RESOURCES: [rsOrigin, `${rsOrigin}/mcp`, `${rsOrigin}/sse`].join(','),
          IDP_LOG_LEVEL: 'warn',
        },
        readyUrl: `${issuer}/.well-known/oauth-authorization-server`,
      }),
    );
    servers.push(
      await startChild({
        name: 'lab-rs',
        script: RS_MAIN,
        env: rsEnv(rsPort, issuer, undefined, config.rsLogLevel),
        readyUrl: `${rsOrigin}/.well-known/oauth-protected-resource`,
      }),
    );
    const mcpUrl = `${rsOrigin}/mcp`;
    const startup = [];
    for (let i = 0; i < config.cliRuns; i++) startup.push(await runCliOnce(['--help'], undefined));
    const cold: CliRun[] = [];
    const warm: CliRun[] = [];
    for (let i = 0; i < config.cliRuns; i++) {
      const store = mkdtempSync(join(tmpdir(), 'mcp-lab-bench-cli-'));
      stores.push(store);
      const c = await runCliOnce(['connect', mcpUrl, '--json', '--login', LOGIN, '--call', 'whoami', '--store', store], store);
      cold.push(c);
      const w = await runCliOnce(['call', mcpUrl, 'whoami', '--json', '--store', store], store);
      warm.push(w);
      log(`cli run ${i + 1}: cold ${c.wallMs.toFixed(0)} ms (${c.ok ? 'ok' : 'FAILED'}), warm ${w.wallMs.toFixed(0)} ms (${w.ok ? 'ok' : 'FAILED'})`);
    }
    const rows: string[][] = [['flow', 'wall ms (median)', 'sum of step ms', 'HTTP round trips', 'ok runs']];
    const row = (name: string, runs: readonly CliRun[], withSteps: boolean): string[] => [
      name,
      median(runs.map((r) => r.wallMs)).toFixed(0),
      withSteps ? median(runs.map((r) => sumStepMs(r))).toFixed(0) : '',
      withSteps ? median(runs.map((r) => r.httpRoundTrips)).toFixed(0) : '',
      `${runs.filter((r) => (withSteps ? r.ok : r.exitCode === 0)).length}/${runs.length}`,
    ];
    rows.push(row('process start only (--help)', startup, false));
    rows.push(row('cold (discovery → login → first tool result)', cold, true));
    rows.push(row('warm (stored token → tool result)', warm, true));
    const failed = [...cold, ...warm].find((r) => !r.ok);
    const typicalCold = cold[Math.floor(cold.length / 2)];
    const typicalWarm = warm[Math.floor(warm.length / 2)];
    const report = [
      `CLI flows against the embedded IdP + lab RS (${config.cliRuns} runs each; wall = spawn to exit, includes Node start-up)`,
      machineLine(loadBefore),
      '',
      renderTable(rows),
      '',
      typicalCold === undefined ? '' : `steps of a cold run:\n${stepTable(typicalCold)}\n`,
      typicalWarm === undefined ? '' : `steps of a warm run:\n${stepTable(typicalWarm)}\n`,
      failed === undefined ? '' : `a run FAILED (exit ${failed.exitCode}): ${failed.stderr.slice(-800)}`,
    ].join('\n');
    return { report, valid: failed === undefined };
  } finally {
    for (const s of servers.reverse()) await s.stop();
    for (const dir of stores) rmSync(dir, { recursive: true, force: true });
  }
}

function sumStepMs(run: CliRun): number {
  return run.steps.reduce((acc, s) => acc + s.ms, 0);
}

function stepTable(run: CliRun): string {
  return renderTable([
    ['step', 'status', 'ms', 'HTTP'],
    ...run.steps.map((s) => [s.step, s.status, s.ms.toFixed(0), String(s.http.length)]),
  ]);
}

/** Runs the CLI once as a child process; `--json` lines on stdout become step events. */
function runCliOnce(args: readonly string[], store: string | undefined): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...(store === undefined ? {} : { MCP_LAB_CLIENT_HOME: store }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      const steps: StepLine[] = [];
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as StepLine;
          if (typeof parsed.step === 'string') steps.push(parsed);
        } catch (err) {
          stderr += `\n(bench) unparsable --json line: ${(err as Error).message}`;
        }
      }
      const httpRoundTrips = steps.reduce((acc, s) => acc + s.http.length, 0);
      const last = steps.at(-1);
      const ok = exitCode === 0 && last?.step === 'tools-call' && last.status === 'ok';
      resolve({ wallMs, exitCode, steps, httpRoundTrips, ok, stderr });
    });
  });
}
