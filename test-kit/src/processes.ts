import type { ChildProcess } from 'node:child_process';
import { captureSink, startService } from '@mcp-lab/launcher';

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
  readonly cwd?: string;
}

/** Starts a real process for a test and waits until it answers HTTP at `readyUrl`; its output is captured, not printed. */
export async function startProcess(opts: StartOptions): Promise<RunningProcess> {
  const sink = captureSink();
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
        ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      },
      sink.stream,
    );
    return { child: svc.child, output: sink.text, stop: () => svc.stop() };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- output ---\n${sink.text()}`, { cause: err });
  }
}
