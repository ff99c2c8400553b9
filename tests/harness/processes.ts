import { Writable } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import { startService } from '../../scripts/lab/children.ts';

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr interleaved, line by line). */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Polled until it answers any HTTP status below 500. */
  readonly readyUrl: string;
  readonly readyTimeoutMs?: number;
  /** Prefix of the captured lines; defaults to the command's base name. */
  readonly name?: string;
}

/** Starts a real process for a test and waits until it answers HTTP at `readyUrl`; its output is captured, not printed. */
export async function startProcess(opts: StartOptions): Promise<RunningProcess> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  try {
    const svc = await startService(
      {
        name: opts.name ?? opts.command.split('/').pop() ?? opts.command,
        command: opts.command,
        args: opts.args,
        env,
        readyUrl: opts.readyUrl,
        ...(opts.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: opts.readyTimeoutMs }),
      },
      sink,
    );
    return { child: svc.child, output: () => out, stop: () => svc.stop() };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- output ---\n${out}`, { cause: err });
  }
}
