import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchConfig } from '../config.ts';
import { inspectorFromOutput, type HeapUsage, type InspectorClient } from '../inspector.ts';
import { startBenchIssuer } from '../jwt.ts';
import { runLoad, type LoadResult } from '../load.ts';
import { isWhoamiResult, openSession, TOOLS_CALL_BODY } from '../mcp.ts';
import { openFilesLimit, rssKiB } from '../proc.ts';
import { machineLine, renderTable, type Log } from '../report.ts';
import { openSseStreams } from '../sse-streams.ts';
import { BENCH_UNLIMITED_RS_ENV, rsAvailable, rsToken, startRsProcess } from '../targets.ts';

const HANDSHAKE_CONCURRENCY = 50;
const FD_HEADROOM = 256;
const SETTLE_MS = 2_000;

/** What the SSE scenario measured. */
interface SseRun {
  readonly without: LoadResult;
  readonly withStreams: LoadResult;
  readonly streams: Awaited<ReturnType<typeof openSseStreams>>;
  readonly closedEarly: number;
  readonly before: MemorySample;
  readonly after: MemorySample;
}

type MemorySample = Awaited<ReturnType<typeof sampleMemory>>;

/**
 * Scenario 2: N authenticated HTTP+SSE streams held open on the lab RS. Reports the RS's memory per stream
 * (RSS from /proc, and the V8 heap after a forced GC read through the inspector) and the tools/call latency on
 * Streamable HTTP without and with the streams open.
 */
export async function runSse(config: BenchConfig, log: Log): Promise<{ report: string; valid: boolean }> {
  if (!rsAvailable()) return { report: 'SSE scenario: lab RS not available (mcp-server/src/main.ts missing)', valid: false };
  const fdProblem = openFilesProblem(config);
  if (fdProblem !== undefined) return { report: fdProblem, valid: false };
  const loadBefore = loadavg();
  const issuer = await startBenchIssuer();
  // --inspect lets the bench read the RS's heap from outside; port 0 = any free port, loopback only.
  const { server, origin } = await startRsProcess({
    issuer,
    rsLogLevel: config.rsLogLevel,
    nodeArgs: ['--inspect=127.0.0.1:0'],
    extraRsEnv: BENCH_UNLIMITED_RS_ENV,
  });
  let inspector: InspectorClient | undefined;
  const notes: string[] = [];
  try {
    const connected = await inspectorFromOutput(server.output());
    if ('failure' in connected) notes.push(`heap not sampled (${connected.failure}); RSS only`);
    else inspector = connected;
    const run = await measureSse(config, log, { issuer, origin, pid: server.pid, inspector });
    return sseReport(config, run, loadBefore, notes);
  } finally {
    inspector?.close();
    await server.stop();
    await issuer.close();
  }
}

/** Why this process cannot hold the configured streams (too few open files allowed), or undefined. */
function openFilesProblem(config: BenchConfig): string | undefined {
  const limit = openFilesLimit();
  if (limit >= config.sseStreams + FD_HEADROOM) return undefined;
  return (
    `SSE scenario: ${config.sseStreams} streams need ~${config.sseStreams + FD_HEADROOM} open files in this process ` +
    `and in the RS, but the limit is ${limit}; raise it first (ulimit -n ${config.sseStreams + 2 * FD_HEADROOM}).`
  );
}

interface SseTarget {
  readonly issuer: Awaited<ReturnType<typeof startBenchIssuer>>;
  readonly origin: string;
  readonly pid: number;
  readonly inspector: InspectorClient | undefined;
}

/** tools/call load without streams, memory before and with the streams held, and the load again with them. */
async function measureSse(config: BenchConfig, log: Log, target: SseTarget): Promise<SseRun> {
  const { issuer, origin, pid, inspector } = target;
  const session = await openSession(`${origin}/mcp`, await rsToken(issuer, origin, '/mcp'));
  const loadSpec = (phase: string, durationS: number) => ({
    title: `tools/call ${phase}`,
    url: `${origin}/mcp`,
    method: 'POST' as const,
    headers: session.headers,
    body: TOOLS_CALL_BODY,
    connections: config.sseLoadConnections,
    durationS,
    validate: isWhoamiResult,
  });
  await runLoad(loadSpec('warmup', Math.max(config.warmupSeconds, 1)));
  const without = await runLoad(loadSpec('without streams', config.sseLoadSeconds));
  log(`tools/call without streams: ${without.requestsPerS.toFixed(0)} req/s, p99 ${without.p99Ms} ms`);

  // A first stream warms the SSE path (module code, JIT) so that the delta is per stream, not start-up.
  const warm = await openSseStreams(`${origin}/sse`, sseHeaders(await rsToken(issuer, origin, '/sse')), 1, 1);
  const before = await sampleMemory(pid, inspector);
  const token = await rsToken(issuer, origin, '/sse');
  log(`opening ${config.sseStreams} SSE streams…`);
  const streams = await openSseStreams(`${origin}/sse`, sseHeaders(token), config.sseStreams, HANDSHAKE_CONCURRENCY);
  log(`opened ${streams.opened} in ${(streams.openMs / 1000).toFixed(1)} s, ${streams.failures} failed`);
  await sleep(SETTLE_MS);
  const after = await sampleMemory(pid, inspector);
  const withStreams = await runLoad(loadSpec('with streams', config.sseLoadSeconds));
  log(`tools/call with streams: ${withStreams.requestsPerS.toFixed(0)} req/s, p99 ${withStreams.p99Ms} ms`);
  const closedEarly = streams.closedEarly();
  await streams.closeAll();
  await warm.closeAll();
  return { without, withStreams, streams, closedEarly, before, after };
}

/** The RS's memory before and with the streams, overall and per stream. */
function memoryRows(before: MemorySample, after: MemorySample, streamsOpened: number): string[][] {
  const n = Math.max(streamsOpened, 1);
  const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
  const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
  const memRows: string[][] = [['RS memory', 'before', 'with streams', 'per stream']];
  memRows.push([
    'RSS (/proc VmRSS)',
    `${(before.rssKiB / 1024).toFixed(1)} MiB`,
    `${(after.rssKiB / 1024).toFixed(1)} MiB`,
    `${((after.rssKiB - before.rssKiB) / n).toFixed(1)} KiB`,
  ]);
  if (before.heap !== undefined && after.heap !== undefined) {
    memRows.push([
      'V8 heap used after GC (inspector)',
      `${mib(before.heap.usedBytes)} MiB`,
      `${mib(after.heap.usedBytes)} MiB`,
      `${kib((after.heap.usedBytes - before.heap.usedBytes) / n)} KiB`,
    ]);
  }
  return memRows;
}

/** The scenario's report; valid when every stream opened and stayed open and both loads were valid. */
function sseReport(config: BenchConfig, run: SseRun, loadBefore: number[], notes: readonly string[]): { report: string; valid: boolean } {
  const { without, withStreams, streams, closedEarly } = run;
  const loadRows: string[][] = [['tools/call (Streamable HTTP)', 'req/s', 'p50 ms', 'p99 ms', 'responses', 'verdict']];
  for (const r of [without, withStreams]) loadRows.push(loadRow(r));
  const valid = streams.failures === 0 && closedEarly === 0 && without.valid && withStreams.valid;
  const report = [
    `SSE streams on the lab RS: ${streams.requested} requested, ${streams.opened} opened ` +
      `(${(streams.opened / (streams.openMs / 1000)).toFixed(0)}/s, ${HANDSHAKE_CONCURRENCY} handshakes in flight), ` +
      `${streams.failures} failed, ${closedEarly} closed by the server while held`,
    ...streams.failureSamples.map((f) => `  failure: ${f}`),
    machineLine(loadBefore),
    '',
    renderTable(memoryRows(run.before, run.after, streams.opened)),
    '',
    `tools/call load: ${config.sseLoadConnections} connections × ${config.sseLoadSeconds} s each`,
    renderTable(loadRows),
    ...notes.map((n2) => `note: ${n2}`),
  ].join('\n');
  return { report, valid };
}

function sseHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

async function sampleMemory(pid: number, inspector: InspectorClient | undefined): Promise<{ rssKiB: number; heap?: HeapUsage }> {
  // Collect garbage first (when we can) so that both RSS samples see a heap without floating garbage.
  const heap = await inspector?.heapAfterGc();
  return heap === undefined ? { rssKiB: rssKiB(pid) } : { rssKiB: rssKiB(pid), heap };
}

function loadRow(r: LoadResult): string[] {
  return [
    r.title,
    r.requestsPerS.toFixed(0),
    String(r.p50Ms),
    String(r.p99Ms),
    String(r.responses),
    r.valid ? 'valid' : `INVALID ${JSON.stringify(r.statusCodes)} bad=${r.badBodies} err=${r.errors}`,
  ];
}
