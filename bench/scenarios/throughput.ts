import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchConfig } from '../config.ts';
import { startBenchIssuer, type BenchIssuer } from '../jwt.ts';
import { runLoad, type LoadResult } from '../load.ts';
import { callOnce, isWhoamiResult, TOOLS_CALL_BODY } from '../mcp.ts';
import { cpuTimeMs } from '../proc.ts';
import { newestProfile, renderProfile, summariseProfile } from '../profile.ts';
import { machineLine, summarise, throughputReport, type Log, type RoundResult } from '../report.ts';
import { DEFAULT_TOKEN_POOL, rsAvailable, startTarget, TARGET_LABELS, type RunningTarget, type TargetKey } from '../targets.ts';

/**
 * Scenario 1: tools/call throughput of (a) the bare ceiling, (b) the SDK peer and (c) the lab RS, loaded one at a
 * time with the same generator, alternating over rounds so that drift (thermal, noisy neighbours) hits all alike.
 */
export async function runThroughput(config: BenchConfig, log: Log): Promise<{ report: string; valid: boolean }> {
  const notes: string[] = [];
  let startFailures = 0;
  const issuer = await startBenchIssuer();
  const targets: RunningTarget[] = [];
  try {
    for (const key of config.targets) {
      if (key !== 'a' && key !== 'b' && !rsAvailable()) {
        notes.push('c skipped: mcp-server/src/main.ts does not exist yet');
        continue;
      }
      try {
        const target = await startTarget(key, { issuer, rsLogLevel: config.rsLogLevel });
        targets.push(target);
        notes.push(...(await checkTarget(target)));
      } catch (err) {
        startFailures++;
        notes.push(`${TARGET_LABELS[key]} not measured: ${(err as Error).message.split('\n')[0]}`);
        log(`${TARGET_LABELS[key]} failed to start or answer:\n${(err as Error).message}`);
      }
    }
    if (targets.length === 0) return { report: notes.join('\n'), valid: false };
    const loadBefore = loadavg();

    for (const t of targets) {
      if (config.warmupSeconds > 0) await runLoad(loadSpec(t, config, config.warmupSeconds, 'warmup'));
    }
    const rounds = new Map<TargetKey, RoundResult[]>(targets.map((t) => [t.key, []]));
    for (let round = 1; round <= config.rounds; round++) {
      // Rotate the order each round so no target always runs first (or right after the heaviest one).
      const shift = (round - 1) % targets.length;
      const order = [...targets.slice(shift), ...targets.slice(0, shift)];
      for (const t of order) {
        const before = cpuTimeMs(t.server.pid);
        const loadgenBefore = process.cpuUsage();
        const res: LoadResult = await runLoad(loadSpec(t, config, config.roundSeconds, `round ${round}`));
        const serverCpuMs = cpuTimeMs(t.server.pid) - before;
        const loadgen = process.cpuUsage(loadgenBefore);
        rounds.get(t.key)?.push({ ...res, round, serverCpuMs, loadgenCpuMs: (loadgen.user + loadgen.system) / 1000 });
        log(
          `round ${round} ${t.label}: ${res.requestsPerS.toFixed(0)} req/s, p50 ${res.p50Ms} ms, p99 ${res.p99Ms} ms, ` +
            `cpu ${((serverCpuMs * 1000) / Math.max(res.responses, 1)).toFixed(0)} µs/req` +
            (res.valid ? '' : ` INVALID ${JSON.stringify(res.statusCodes)} bad=${res.badBodies} err=${res.errors} ${res.sampleBadBody ?? ''}`),
        );
      }
    }
    const summaries = targets.map((t) => summarise(t.key, t.label, rounds.get(t.key) ?? []));
    // A target that failed to start or to answer its check makes the run incomplete (an absent RS is only a note).
    const valid = startFailures === 0 && summaries.every((s) => s.invalidRounds === 0);
    const header = [
      `tools/call whoami — ${config.rounds} rounds × ${config.roundSeconds} s, ${config.connections} connections, ` +
        `warmup ${config.warmupSeconds} s; medians over rounds.`,
      'CPU µs/req = server process user+system (/proc/<pid>/stat) / responses; cores = CPU seconds per second; ' +
        'loadgen = this process (autocannon).',
      'a: no auth, fixed reply. b: requireBearerAuth + jose, stateless (new McpServer + transport per request). ' +
        'c: lab RS, one stateful 2025 Streamable HTTP session (Mcp-Session-Id) shared by all connections. ' +
        'd: lab RS, stateless 2026-07-28 requests (no session; each verifies its token, verified-token cache on). ' +
        `e: as d, f: as c, but every request carries another token (a pool of ${DEFAULT_TOKEN_POOL} > the RS's cache of 10,000: every lookup misses).`,
      machineLine(loadBefore),
    ].join('\n');
    let report = [header, '', throughputReport(summaries), '', ...notes.map((n) => `note: ${n}`)].join('\n');
    if (config.profile) {
      for (const t of targets) report += `\n\n${await profileTarget(t.key, config, issuer, log)}`;
    }
    return { report, valid };
  } finally {
    await Promise.all(targets.map((t) => t.server.stop()));
    await issuer.close();
  }
}

function loadSpec(t: RunningTarget, config: BenchConfig, durationS: number, phase: string) {
  return {
    title: `${t.label} ${phase}`,
    url: t.mcpUrl,
    method: 'POST' as const,
    headers: t.headers,
    body: t.body ?? TOOLS_CALL_BODY,
    connections: config.connections,
    durationS,
    validate: isWhoamiResult,
    ...(t.tokenPool ? { rotateBearer: t.tokenPool } : {}),
  };
}

/** One call before loading: the target must answer correctly; also records whether it insists on the dual Accept. */
async function checkTarget(t: RunningTarget): Promise<string[]> {
  const first = await callOnce(t.mcpUrl, t.headers, t.body);
  if (first.status < 200 || first.status > 299 || !isWhoamiResult(first.body)) {
    throw new Error(`tools/call check failed: HTTP ${first.status} ${first.body.slice(0, 300)}`);
  }
  const jsonOnly = await callOnce(t.mcpUrl, { ...t.headers, accept: 'application/json' }, t.body);
  return [
    `${t.label}: tools/call answers ${first.contentType ?? 'no content-type'}; ` +
      `with "Accept: application/json" only it answers HTTP ${jsonOnly.status}`,
  ];
}

/** Starts a second instance with --cpu-prof (so the profiler does not skew the table), loads it once, summarises. */
async function profileTarget(key: TargetKey, config: BenchConfig, issuer: BenchIssuer, log: Log): Promise<string> {
  const keep = config.profileDir !== undefined;
  const dir = keep ? join(config.profileDir as string, `target-${key}`) : mkdtempSync(join(tmpdir(), 'mcp-lab-bench-prof-'));
  mkdirSync(dir, { recursive: true });
  try {
    const spawnedAt = performance.now();
    const target = await startTarget(key, {
      issuer,
      rsLogLevel: config.rsLogLevel,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    });
    let res: LoadResult;
    // Only the load window counts, not start-up (module loading, type stripping) nor JIT warm-up.
    let window: { fromMs: number; toMs: number };
    try {
      await runLoad(loadSpec(target, config, Math.max(config.warmupSeconds, 1), 'profile warmup'));
      const fromMs = performance.now() - spawnedAt;
      res = await runLoad(loadSpec(target, config, config.roundSeconds, 'profile'));
      window = { fromMs, toMs: performance.now() - spawnedAt };
    } finally {
      await target.server.stop();
    }
    log(`profile run of ${target.label}: ${res.requestsPerS.toFixed(0)} req/s (${res.valid ? 'valid' : 'INVALID'})`);
    const file = newestProfile(dir);
    if (file === undefined) {
      return `profile of ${target.label}: no .cpuprofile written (the process must exit normally on SIGTERM for --cpu-prof)`;
    }
    return (
      `CPU profile of ${target.label} under the same load (${res.requestsPerS.toFixed(0)} req/s with the profiler on)` +
      `${keep ? `, kept in ${file}` : ''}:\n` +
      renderProfile(summariseProfile(file, window))
    );
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
