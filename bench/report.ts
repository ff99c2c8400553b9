import { availableParallelism, cpus, loadavg } from 'node:os';
import type { LoadResult } from './load.ts';

/** Where progress lines go (stderr). */
export type Log = (line: string) => void;

/** The machine, and how busy it was (other work skews every number, CPU per request least). */
export function machineLine(loadBefore: readonly number[]): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  const la = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  return `machine: ${availableParallelism()} cores (${model}), Node ${process.version}; load average before ${la(loadBefore)}, after ${la(loadavg())}`;
}

/** One load run of one target, with the CPU its server process used meanwhile. */
export interface RoundResult extends LoadResult {
  readonly round: number;
  /** Server process CPU (user + system) during the run, ms. */
  readonly serverCpuMs: number;
  /** CPU of the bench process itself (autocannon) during the run, ms. */
  readonly loadgenCpuMs: number;
}

export interface TargetSummary {
  /** Short name used in ratios (a, b, c). */
  readonly key: string;
  readonly label: string;
  readonly rounds: number;
  readonly invalidRounds: number;
  readonly responses: number;
  readonly non2xx: number;
  readonly badBodies: number;
  readonly errors: number;
  readonly requestsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU time per response, microseconds. */
  readonly cpuUsPerRequest: number;
  /** Server CPU use during the runs, as a share of one core. */
  readonly cpuCores: number;
  /** Load generator CPU use during the runs, as a share of one core. */
  readonly loadgenCores: number;
}

/** The median (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Medians over rounds; counts summed. A target with one invalid round is invalid as a whole. */
export function summarise(key: string, label: string, rounds: readonly RoundResult[]): TargetSummary {
  const sum = (f: (r: RoundResult) => number): number => rounds.reduce((acc, r) => acc + f(r), 0);
  return {
    key,
    label,
    rounds: rounds.length,
    invalidRounds: rounds.filter((r) => !r.valid).length,
    responses: sum((r) => r.responses),
    non2xx: sum((r) => r.non2xx),
    badBodies: sum((r) => r.badBodies),
    errors: sum((r) => r.errors),
    requestsPerS: median(rounds.map((r) => r.requestsPerS)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    cpuUsPerRequest: median(rounds.map((r) => (r.responses > 0 ? (r.serverCpuMs * 1000) / r.responses : Number.NaN))),
    cpuCores: median(rounds.map((r) => r.serverCpuMs / 1000 / r.durationS)),
    loadgenCores: median(rounds.map((r) => r.loadgenCpuMs / 1000 / r.durationS)),
  };
}

/** Renders rows as a fixed-width text table (first row = header). */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const [header, ...body] = rows;
  if (header === undefined) return '';
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** The throughput table: one line per target, then c/a and c/b ratios when those targets ran. */
export function throughputReport(summaries: readonly TargetSummary[]): string {
  const rows: string[][] = [
    ['target', 'req/s (median)', 'p50 ms', 'p99 ms', 'CPU µs/req', 'server cores', 'loadgen cores', 'responses', 'non-2xx', 'bad body', 'errors', 'verdict'],
  ];
  for (const s of summaries) {
    rows.push([
      s.label,
      fmt(s.requestsPerS),
      fmt(s.p50Ms),
      fmt(s.p99Ms),
      fmt(s.cpuUsPerRequest),
      fmt(s.cpuCores, 2),
      fmt(s.loadgenCores, 2),
      String(s.responses),
      String(s.non2xx),
      String(s.badBodies),
      String(s.errors),
      s.invalidRounds === 0 ? 'valid' : `INVALID (${s.invalidRounds}/${s.rounds} rounds)`,
    ]);
  }
  const out = [renderTable(rows)];
  const byKey = new Map(summaries.map((s) => [s.key, s]));
  const ratioRows: string[][] = [['ratio', 'req/s', 'p99', 'CPU/req']];
  // Every lab RS target against the ceiling (a) and the SDK peer (b), all from this one run.
  for (const key of ['c', 'd', 'e', 'f']) {
    const lab = byKey.get(key);
    if (lab === undefined) continue;
    for (const other of ['a', 'b']) {
      const o = byKey.get(other);
      if (o === undefined) continue;
      ratioRows.push([
        `${key}/${other}`,
        fmt(lab.requestsPerS / o.requestsPerS, 2),
        fmt(lab.p99Ms / o.p99Ms, 2),
        fmt(lab.cpuUsPerRequest / o.cpuUsPerRequest, 2),
      ]);
    }
  }
  if (ratioRows.length > 1) out.push('', renderTable(ratioRows));
  return out.join('\n');
}
