import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { freePort, startService } from '@mcp-lab/launcher';
import type { BenchConfig } from '../config.ts';
import { startBenchIssuer, type BenchIssuer } from '../jwt.ts';
import { runLoad, type LoadResult } from '../load.ts';
import { isWhoamiResult, openSession, TOOLS_CALL_BODY } from '../mcp.ts';
import { cpuTimeMs, type ChildServer } from '../proc.ts';
import { machineLine, summarise, throughputReport, type Log, type RoundResult, type TargetSummary } from '../report.ts';
import { BENCH_UNLIMITED_RS_ENV, REPO_ROOT, rsToken, startRsProcess } from '../targets.ts';

const HAPROXY_CFG = fileURLToPath(new URL('../../docker/scale/haproxy.cfg', import.meta.url));

/** One measured set-up: the replicas, and the proxy in front of them (none for the direct baseline). */
interface Setup {
  readonly key: string;
  readonly label: string;
  readonly replicas: ChildServer[];
  readonly proxyPid: number | undefined;
  /** The URL the load is sent to, and the per-session headers (one session per load group). */
  readonly mcpUrl: string;
  readonly sessions: Readonly<Record<string, string>>[];
  stop(): Promise<void>;
}

/** Sessions per set-up: through the proxy each lands on the next replica (round-robin), so three spread the load. */
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
    const sessions = [];
    for (let i = 0; i < SESSIONS; i++) sessions.push((await openSession(`${base}/mcp`, token)).headers);
    return { key, label, replicas, proxyPid: proxy?.pid, mcpUrl: `${base}/mcp`, sessions, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Loads a set-up: one autocannon per session at once, the connections split between them; merged into one result. */
async function loadSetup(s: Setup, config: BenchConfig, durationS: number, phase: string): Promise<LoadResult> {
  const per = Math.max(1, Math.floor(config.connections / s.sessions.length));
  const parts = await Promise.all(
    s.sessions.map((headers, i) =>
      runLoad({
        title: `${s.label} ${phase} #${i}`,
        url: s.mcpUrl,
        method: 'POST',
        headers,
        body: TOOLS_CALL_BODY,
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
    title: `${s.label} ${phase}`,
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

/**
 * Scenario scale: authenticated tools/call (whoami, 2025 Streamable HTTP sessions) to one replica directly, and
 * through HAProxy (docker/scale/haproxy.cfg) to one and to three replicas sharing Redis, alternating over rounds.
 * On two cores the point is the proxy's cost per request, not a speed-up: the replicas and the proxy share them.
 */
export async function runScale(config: BenchConfig, log: Log): Promise<{ report: string; valid: boolean }> {
  const issuer = await startBenchIssuer();
  const setups: Setup[] = [];
  try {
    setups.push(await startSetup('d', 'direct, 1 replica', issuer, config, 1, false));
    setups.push(await startSetup('p1', 'proxy → 1 replica', issuer, config, 1, true));
    setups.push(await startSetup('p3', 'proxy → 3 replicas', issuer, config, 3, true));
    const loadBefore = loadavg();
    for (const s of setups) if (config.warmupSeconds > 0) await loadSetup(s, config, config.warmupSeconds, 'warmup');
    const rounds = new Map<string, RoundResult[]>(setups.map((s) => [s.key, []]));
    for (let round = 1; round <= config.rounds; round++) {
      const shift = (round - 1) % setups.length;
      for (const s of [...setups.slice(shift), ...setups.slice(0, shift)]) {
        const before = serverCpuMs(s);
        const loadgenBefore = process.cpuUsage();
        const res = await loadSetup(s, config, config.roundSeconds, `round ${round}`);
        const loadgen = process.cpuUsage(loadgenBefore);
        rounds.get(s.key)?.push({ ...res, round, serverCpuMs: serverCpuMs(s) - before, loadgenCpuMs: (loadgen.user + loadgen.system) / 1000 });
        log(`round ${round} ${s.label}: ${res.requestsPerS.toFixed(0)} req/s, p99 ${res.p99Ms} ms${res.valid ? '' : ` INVALID ${JSON.stringify(res.statusCodes)}`}`);
      }
    }
    const summaries = setups.map((s) => summarise(s.key, s.label, rounds.get(s.key) ?? []));
    const valid = summaries.every((s) => s.invalidRounds === 0);
    const header = [
      `scale: tools/call whoami — ${config.rounds} rounds × ${config.roundSeconds} s, ${config.connections} connections over ` +
        `${SESSIONS} Streamable HTTP sessions, warmup ${config.warmupSeconds} s; medians over rounds; p50/p99 = worst session's.`,
      'Replicas share Redis (MCP_REDIS_URL); the proxy is HAProxy with docker/scale/haproxy.cfg (affinity on Mcp-Session-Id, ' +
        'so the three sessions land on three replicas). CPU µs/req = replicas + proxy (not Redis, idle on this path).',
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
