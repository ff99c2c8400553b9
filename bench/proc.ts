import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { startService } from '@mcp-lab/launcher';

/** A server under test, running as its own process so that its CPU and memory can be read from /proc. */
export interface ChildServer {
  readonly name: string;
  readonly pid: number;
  /** The last lines the process wrote (stdout and stderr), for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ChildSpec {
  readonly name: string;
  /** The `.ts` (or `.js`) entry point, run with this Node binary. */
  readonly script: string;
  readonly nodeArgs?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Polled until it answers with a status below 500. */
  readonly readyUrl: string;
  readonly cwd?: string;
}

const OUTPUT_LIMIT_CHARS = 16_000;
const running = new Set<ChildServer>();

/** Stops every child still running (for an interrupted bench). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()));
}

/** Starts `node <script>` and waits until it answers HTTP. Its output is kept in memory, not printed. */
export async function startChild(spec: ChildSpec): Promise<ChildServer> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out = (out + chunk.toString()).slice(-OUTPUT_LIMIT_CHARS);
      done();
    },
  });
  try {
    const svc = await startService(
      {
        name: spec.name,
        command: process.execPath,
        args: [...(spec.nodeArgs ?? []), spec.script],
        env: spec.env,
        readyUrl: spec.readyUrl,
      },
      sink,
    );
    const pid = svc.child.pid;
    if (pid === undefined) throw new Error(`${spec.name} has no pid`);
    const child: ChildServer = {
      name: spec.name,
      pid,
      output: () => out,
      stop: async () => {
        running.delete(child);
        await svc.stop();
      },
    };
    running.add(child);
    return child;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- ${spec.name} output ---\n${out}`, { cause: err });
  }
}

let clockTicksPerS: number | undefined;

function ticksPerSecond(): number {
  if (clockTicksPerS === undefined) {
    const raw = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`getconf CLK_TCK printed ${JSON.stringify(raw)}`);
    clockTicksPerS = n;
  }
  return clockTicksPerS;
}

/**
 * CPU time (user + system, all threads) the process has used so far, in milliseconds; proc(5) fields 14 and 15 of
 * /proc/<pid>/stat. Resolution is one clock tick (10 ms on Linux), ample for runs of seconds.
 */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc/${pid}/stat`);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** Resident set size of the process in KiB (VmRSS of /proc/<pid>/status, proc(5)). */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/** The soft limit on open files of this process (children inherit it), from /proc/self/limits. */
export function openFilesLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  if (match?.[1] === undefined) throw new Error('no "Max open files" in /proc/self/limits');
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}
