/** Runs one of the project's provisioning scripts (scripts/ensure-*.sh), which print one path on success. */
import { execFileSync, spawn } from 'node:child_process';
import { repoPath } from './repo.ts';

export type Provisioned = { readonly available: true; readonly path: string } | { readonly available: false; readonly reason: string };

/**
 * Runs `scripts/<script>` (it may download or build once, hence the long timeout) and returns the path it printed,
 * or why it could not; never throws, so callers can decide between skipping and failing.
 */
export function provision(script: string): Provisioned {
  try {
    const path = execFileSync('bash', [repoPath(`scripts/${script}`)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 900_000,
    }).trim();
    return { available: true, path };
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    return { available: false, reason: stderr || (err as Error).message };
  }
}

export interface ProgressOptions {
  /** Names the thing in every line, e.g. `Dex`. */
  readonly label: string;
  /** What a first run does and costs, printed once it takes more than a second (e.g. "builds …, 2–3 min"). */
  readonly firstRun: string;
  /** Where progress goes (default stderr). */
  readonly out?: NodeJS.WritableStream;
  /** A "still working" line after this much silence; default 20 s. */
  readonly heartbeatMs?: number;
  readonly timeoutMs?: number;
}

/**
 * `provision` (or any script, given a path), asynchronously and out loud: the script's own lines are forwarded as `provision: [label] …`, a line
 * every `heartbeatMs` says it is still working (a Go build is silent for minutes), and the end says how long it took.
 * A warm cache answers in well under a second and prints nothing.
 */
export function provisionWithProgress(script: string, opts: ProgressOptions): Promise<Provisioned> {
  const file = script.includes('/') ? script : repoPath(`scripts/${script}`);
  const out = opts.out ?? process.stderr;
  const heartbeatMs = opts.heartbeatMs ?? 20_000;
  const started = Date.now();
  const secs = (): number => Math.round((Date.now() - started) / 1000);
  // Quiet for the first second: a warm cache, or a quick "cannot" (its reason reaches the skipped suite), says nothing.
  let loud = false;
  const queued: string[] = [];
  const say = (line: string): void => {
    if (!loud) return void queued.push(line);
    out.write(`provision: [${opts.label}] ${line}\n`);
  };
  const speakUp = setTimeout(() => {
    loud = true;
    out.write(`provision: [${opts.label}] not cached yet; first run ${opts.firstRun}\n`);
    for (const l of queued.splice(0)) say(l);
  }, 1000);
  return new Promise((resolve) => {
    const child = spawn('bash', [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim() !== '') say(l);
    });
    const beat = setInterval(() => say(`still working (${secs()} s)`), heartbeatMs);
    const limit = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? 900_000);
    const finish = (result: Provisioned): void => {
      clearInterval(beat);
      clearTimeout(limit);
      clearTimeout(speakUp);
      if (loud) say(result.available ? `ready in ${secs()} s: ${result.path}` : `failed after ${secs()} s`);
      resolve(result);
    };
    child.on('error', (err) => finish({ available: false, reason: err.message }));
    child.on('close', (code, signal) => {
      if (partial.trim() !== '') say(partial);
      const path = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && path !== '') finish({ available: true, path });
      else {
        // The last line is the script's own verdict (a failed build prints pages before it).
        const last = stderr.trim().split('\n').pop();
        finish({ available: false, reason: last || `${file} exited with ${signal ?? code}` });
      }
    });
  });
}
