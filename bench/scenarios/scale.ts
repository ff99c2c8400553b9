import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { freePort, startService } from '@mcp-lab/launcher';
import type { BenchConfig } from '../config.ts';
import { startBenchIssuer, type BenchIssuer } from '../jwt.ts';
import { runLoad, type LoadResult } from '../load.ts';
import { isWhoamiResult, MODERN_HEADERS, MODERN_TOOLS_CALL_BODY, openSession, STREAMABLE_ACCEPT, TOOLS_CALL_BODY } from '../mcp.ts';
import { cpuTimeMs, type ChildServer } from '../proc.ts';
import { machineLine, summarise, throughputReport, type Log, type RoundResult, type TargetSummary } from '../report.ts';
import { BENCH_UNLIMITED_RS_ENV, REPO_ROOT, rsToken, startRsProcess } from '../targets.ts';

const HAPROXY_CFG = fileURLToPath(new URL('../../docker/scale/haproxy.cfg', import.meta.url));

/** One load generator's requests: its headers and body. */
interface LoadGroup {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The two eras measured on every set-up. */
type Era = 'sessions' | 'stateless';

/** One measured set-up: the replicas, and the proxy in front of them (none for the direct baseline). */
interface Setup {
  readonly key: string;
  readonly label: string;
  readonly replicas: ChildServer[];
  readonly proxyPid: number | undefined;
  /** The URL the load is sent to. */
  readonly mcpUrl: string;
  /**
   * Per era, one group per load generator: a 2025 Streamable HTTP session each (affinity pins it to one replica),
   * or the same stateless 2026-07-28 request (round-robin per request through the proxy).
   */
  readonly groups: Readonly<Record<Era, readonly LoadGroup[]>>;
  stop(): Promise<void>;
}

/** One measured target: a set-up under one era's load. */
interface Target {
  readonly key: string;
  readonly label: string;
  readonly setup: Setup;
  readonly era: Era;
}

/** Load generators per target: through the proxy three sessions land on three replicas (round-robin). */
const SESSIONS = 3;

/** Redis from MCP_LAB_REDIS_URL, else the one scripts/ensure-redis.sh starts (or finds) on loopback. */
function redisUrl(): string {
  if (process.env.MCP_LAB_REDIS_URL) return process.env.MCP_LAB_REDIS_URL;
  return execFileSync('bash', ['scripts/ensure-redis.sh'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
}

async function startProxy(port: number, targets: readonly string[]): Promise<{ pid: number; stop: () => Promise<void> }> {
  const at = (i: number) => new URL(targets[Math.min(i, targets.length - 1)]!).host;
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const svc = await startService(
    {
      name: 'haproxy',
      command: 'haproxy',
      args: ['-db', '-f', HAPROXY_CFG],
      env: { MCP_LAB_PROXY_BIND: `127.0.0.1:${port}`, MCP_LAB_RS1: at(0), MCP_LAB_RS2: at(1), MCP_LAB_RS3: at(2) },
      readyUrl: `http://127.0.0.1:${port}/.well-known/oauth-protected-resource`,
    },
    sink,
  );
  if (svc.child.pid === undefined) throw new Error('haproxy has no pid');
  return { pid: svc.child.pid, stop: () => svc.stop() };
}

/**
 * `count` replicas on Redis, all calling themselves `publicUrl` (the proxy's origin, so one token serves all),
 * and HAProxy with the lab's config in front unless `proxied` is false (then the load goes to the one replica).
 */
async function startSetup(key: string, label: string, issuer: BenchIssuer, config: BenchConfig, count: number, proxied: boolean): Promise<Setup> {
  const proxyPort = await freePort();
  const publicUrl = `http://127.0.0.1:${proxyPort}`;
  const replicas: ChildServer[] = [];
  let proxy: { pid: number; stop: () => Promise<void> } | undefined;
  const stop = async () => {
    await proxy?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
  };
  const origins: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const { server, origin } = await startRsProcess({
        issuer,
        rsLogLevel: config.rsLogLevel,
        extraRsEnv: { ...BENCH_UNLIMITED_RS_ENV, MCP_REDIS_URL: redisUrl(), ...(proxied ? { MCP_PUBLIC_URL: publicUrl } : {}) },
      });
      replicas.push(server);
      origins.push(origin);
    }
    if (proxied) proxy = await startProxy(proxyPort, origins);
    const base = proxied ? publicUrl : origins[0]!;
    const token = await rsToken(issuer, base);
    const sessions: LoadGroup[] = [];
    for (let i = 0; i < SESSIONS; i++) sessions.push({ headers: (await openSession(`${base}/mcp`, token)).headers, body: TOOLS_CALL_BODY });
    const modern = {
      headers: { authorization: `Bearer ${token}`, accept: STREAMABLE_ACCEPT, 'content-type': 'application/json', ...MODERN_HEADERS },
      body: MODERN_TOOLS_CALL_BODY,
    };
    const groups = { sessions, stateless: Array.from({ length: SESSIONS }, () => modern) };
    return { key, label, replicas, proxyPid: proxy?.pid, mcpUrl: `${base}/mcp`, groups, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Loads a target: one autocannon per load group at once, the connections split between them; merged into one result. */
async function loadTarget(t: Target, config: BenchConfig, durationS: number, phase: string): Promise<LoadResult> {
  const groups = t.setup.groups[t.era];
  const per = Math.max(1, Math.floor(config.connections / groups.length));
  const parts = await Promise.all(
    groups.map((group, i) =>
      runLoad({
        title: `${t.label} ${phase} #${i}`,
        url: t.setup.mcpUrl,
        method: 'POST',
        headers: group.headers,
        body: group.body,
        connections: per,
        durationS,
        validate: isWhoamiResult,
      }),
    ),
  );
  const sum = (f: (r: LoadResult) => number) => parts.reduce((acc, r) => acc + f(r), 0);
  const statusCodes: Record<string, number> = {};
  for (const p of parts) for (const [code, n] of Object.entries(p.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const bad = parts.find((p) => p.sampleBadBody !== undefined)?.sampleBadBody;
  return {
    title: `${t.label} ${phase}`,
    durationS,
    responses: sum((p) => p.responses),
    requestsPerS: sum((p) => p.requestsPerS),
    // Percentiles of the merged run are not derivable from the parts': the worst part's is reported.
    p50Ms: Math.max(...parts.map((p) => p.p50Ms)),
    p99Ms: Math.max(...parts.map((p) => p.p99Ms)),
    non2xx: sum((p) => p.non2xx),
    badBodies: sum((p) => p.badBodies),
    errors: sum((p) => p.errors),
    statusCodes,
    valid: parts.every((p) => p.valid),
    ...(bad === undefined ? {} : { sampleBadBody: bad }),
  };
}

function serverCpuMs(s: Setup): number {
  const pids = [...s.replicas.map((r) => r.pid), ...(s.proxyPid === undefined ? [] : [s.proxyPid])];
  return pids.reduce((acc, pid) => acc + cpuTimeMs(pid), 0);
}

/** Every set-up under both eras' load: `d`, `p1`, `p3` with 2025 sessions, and the same keys + `m` stateless. */
function targetsOf(setups: readonly Setup[]): Target[] {
  return setups.flatMap((setup) => [
    { key: setup.key, label: `${setup.label}, 2025 sessions`, setup, era: 'sessions' as const },
    { key: `${setup.key}m`, label: `${setup.label}, 2026-07-28 stateless`, setup, era: 'stateless' as const },
  ]);
}

/** The rounds: every target once per round, the order rotated each round; CPU of the target's processes measured. */
async function measure(targets: readonly Target[], config: BenchConfig, log: Log): Promise<Map<string, RoundResult[]>> {
  for (const t of targets) if (config.warmupSeconds > 0) await loadTarget(t, config, config.warmupSeconds, 'warmup');
  const rounds = new Map<string, RoundResult[]>(targets.map((t) => [t.key, []]));
  for (let round = 1; round <= config.rounds; round++) {
    const shift = (round - 1) % targets.length;
    for (const t of [...targets.slice(shift), ...targets.slice(0, shift)]) {
      const before = serverCpuMs(t.setup);
      const loadgenBefore = process.cpuUsage();
      const res = await loadTarget(t, config, config.roundSeconds, `round ${round}`);
      const loadgen = process.cpuUsage(loadgenBefore);
      rounds.get(t.key)?.push({ ...res, round, serverCpuMs: serverCpuMs(t.setup) - before, loadgenCpuMs: (loadgen.user + loadgen.system) / 1000 });
      log(`round ${round} ${t.label}: ${res.requestsPerS.toFixed(0)} req/s, p99 ${res.p99Ms} ms${res.valid ? '' : ` INVALID ${JSON.stringify(res.statusCodes)}`}`);
    }
  }
  return rounds;
}

/**
 * Scenario scale: authenticated tools/call (whoami) to one replica directly, and through HAProxy
 * (docker/scale/haproxy.cfg) to one and to three replicas sharing Redis, each under 2025-session load (affinity
 * per session) and under stateless 2026-07-28 load (round-robin per request), alternating over rounds. On two cores
 * the point is the proxy's cost per request, not a speed-up: the replicas and the proxy share them.
 */
export async function runScale(config: BenchConfig, log: Log): Promise<{ report: string; valid: boolean }> {
  const issuer = await startBenchIssuer();
  const setups: Setup[] = [];
  try {
    setups.push(await startSetup('d', 'direct, 1 replica', issuer, config, 1, false));
    setups.push(await startSetup('p1', 'proxy → 1 replica', issuer, config, 1, true));
    setups.push(await startSetup('p3', 'proxy → 3 replicas', issuer, config, 3, true));
    const loadBefore = loadavg();
    const targets = targetsOf(setups);
    const rounds = await measure(targets, config, log);
    const summaries = targets.map((t) => summarise(t.key, t.label, rounds.get(t.key) ?? []));
    const valid = summaries.every((s) => s.invalidRounds === 0);
    const header = [
      `scale: tools/call whoami — ${config.rounds} rounds × ${config.roundSeconds} s, ${config.connections} connections over ` +
        `${SESSIONS} load generators, warmup ${config.warmupSeconds} s; medians over rounds; p50/p99 = worst generator's.`,
      'Replicas share Redis (MCP_REDIS_URL); the proxy is HAProxy with docker/scale/haproxy.cfg: a 2025 session sticks to ' +
        'the replica that opened it (three sessions, three replicas); a stateless request goes round-robin. ' +
        'CPU µs/req = replicas + proxy (not Redis, idle on both paths).',
      machineLine(loadBefore),
    ].join('\n');
    return { report: [header, '', throughputReport(summaries), '', scaleRatios(summaries)].join('\n'), valid };
  } finally {
    await Promise.all(setups.map((s) => s.stop()));
    await issuer.close();
  }
}

function scaleRatios(summaries: readonly TargetSummary[]): string {
  const by = new Map(summaries.map((s) => [s.key, s]));
  const rows: Array<[string, string, string]> = [
    ['p1/d', 'p1', 'd'],
    ['p3/d', 'p3', 'd'],
    ['p3/p1', 'p3', 'p1'],
    ['p1m/dm', 'p1m', 'dm'],
    ['p3m/dm', 'p3m', 'dm'],
    ['p3m/p1m', 'p3m', 'p1m'],
    ['dm/d', 'dm', 'd'],
  ];
  const lines = ['ratio    req/s   p99    CPU/req'];
  for (const [name, a, b] of rows) {
    const x = by.get(a);
    const y = by.get(b);
    if (!x || !y) continue;
    const r = (u: number, v: number) => (v > 0 ? (u / v).toFixed(2) : 'n/a');
    lines.push(`${name.padEnd(8)} ${r(x.requestsPerS, y.requestsPerS).padEnd(7)} ${r(x.p99Ms, y.p99Ms).padEnd(6)} ${r(x.cpuUsPerRequest, y.cpuUsPerRequest)}`);
  }
  return lines.join('\n');
}
