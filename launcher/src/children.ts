import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** A child service of the lab launcher: its output is prefixed with its name, and it is stopped with SIGTERM. */
export interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface ServiceSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Polled until it answers with a status below 500. */
  readonly readyUrl: string;
  readonly readyTimeoutMs?: number;
  readonly cwd?: string;
  /** Output lines dropped until the service is ready (a known, harmless start-up message; say why where it is set). */
  readonly startupNoise?: (line: string) => boolean;
}

function pipeWithPrefix(
  stream: NodeJS.ReadableStream | null,
  prefix: string,
  out: NodeJS.WritableStream,
  drop: (line: string) => boolean,
): void {
  let buf = '';
  stream?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      if (!drop(line)) out.write(`${prefix} ${line}\n`);
      buf = buf.slice(nl + 1);
    }
  });
}

/** Starts a service and resolves once it answers HTTP; rejects (and stops it) when it exits or times out first. */
export async function startService(spec: ServiceSpec, log: NodeJS.WritableStream = process.stderr): Promise<Service> {
  const child = spawn(spec.command, [...spec.args], {
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${spec.name}]`;
  let ready = false;
  const drop = (line: string): boolean => !ready && spec.startupNoise !== undefined && spec.startupNoise(line);
  pipeWithPrefix(child.stdout, prefix, log, drop);
  pipeWithPrefix(child.stderr, prefix, log, drop);
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (c) => {
      code = c;
      resolve(c);
    }),
  );
  const stop = async (): Promise<void> => {
    if (code !== undefined) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 8_000);
    await exited;
    clearTimeout(killer);
  };
  const timeoutMs = spec.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (code !== undefined) throw new Error(`${spec.name} exited with code ${code} before it was ready`);
    try {
      const res = await fetch(spec.readyUrl, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      if (res.status < 500) {
        ready = true;
        return { name: spec.name, child, exited, stop };
      }
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${spec.name} did not answer ${spec.readyUrl} within ${timeoutMs} ms`, { cause: err });
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${spec.name} did not answer ${spec.readyUrl} within ${timeoutMs} ms`);
    }
    await sleep(150);
  }
}

/** A stream that keeps what services write, for tests that print it only when something fails. */
export function captureSink(): { readonly stream: Writable; text(): string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { stream, text: () => out };
}
