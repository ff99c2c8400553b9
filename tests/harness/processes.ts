import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr interleaved). */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Polled until it answers any HTTP status below 500. */
  readonly readyUrl: string;
  readonly readyTimeoutMs?: number;
}

/** Starts a real process and waits until it answers HTTP at `readyUrl`; `stop()` sends SIGTERM, then SIGKILL. */
export async function startProcess(opts: StartOptions): Promise<RunningProcess> {
  const child = spawn(opts.command, [...opts.args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`${opts.command} ${opts.args.join(' ')} exited with ${exited} before it was ready:\n${out}`);
    }
    try {
      const res = await fetch(opts.readyUrl, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      if (res.status < 500) break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${opts.readyUrl} not ready after ${opts.readyTimeoutMs ?? 30_000} ms:\n${out}`, { cause: err });
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${opts.readyUrl} not ready in time:\n${out}`);
    }
    await sleep(100);
  }
  return { child, output: () => out, stop };
}
