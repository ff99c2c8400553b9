import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchConfig } from '../config.ts';
import { connectInspector, inspectorUrlFrom, type HeapUsage, type InspectorClient } from '../inspector.ts';
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

/**
 * Scenario 2: N authenticated HTTP+SSE streams held open on the lab RS. Reports the RS's memory per stream
 * (RSS from /proc, and the V8 heap after a forced GC read through the inspector) and the tools/call latency on
 * Streamable HTTP without and with the streams open.
 */
export async function runSse(config: BenchConfig, log: Log): Promise<{ report: string; valid: boolean }> {
  if (!rsAvailable()) return { report: 'SSE scenario: lab RS not available (mcp-server/src/main.ts missing)', valid: false };
  const limit = openFilesLimit();
  if (limit < config.sseStreams + FD_HEADROOM) {
    return {
      report:
        `SSE scenario: ${config.sseStreams} streams need ~${config.sseStreams + FD_HEADROOM} open files in this process ` +
        `and in the RS, but the limit is ${limit}; raise it first (ulimit -n ${config.sseStreams + 2 * FD_HEADROOM}).`,
      valid: false,
    };
  }
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
    const wsUrl = inspectorUrlFrom(server.output());
    try {
      if (wsUrl === undefined) throw new Error('the RS printed no inspector URL');
      inspector = await connectInspector(wsUrl);
    } catch (err) {
      notes.push(`heap not sampled (${(err as Error).message}); RSS only`);
    }
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
    const before = await sampleMemory(server.pid, inspector);
    const token = await rsToken(issuer, origin, '/sse');
    log(`opening ${config.sseStreams} SSE streams…`);
    const streams = await openSseStreams(`${origin}/sse`, sseHeaders(token), config.sseStreams, HANDSHAKE_CONCURRENCY);
    log(`opened ${streams.opened} in ${(streams.openMs / 1000).toFixed(1)} s, ${streams.failures} failed`);
    await sleep(SETTLE_MS);
    const after = await sampleMemory(server.pid, inspector);
    const withStreams = await runLoad(loadSpec('with streams', config.sseLoadSeconds));
    log(`tools/call with streams: ${withStreams.requestsPerS.toFixed(0)} req/s, p99 ${withStreams.p99Ms} ms`);
    const closedEarly = streams.closedEarly();
    await streams.closeAll();
    await warm.closeAll();

    const n = Math.max(streams.opened, 1);
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
      renderTable(memRows),
      '',
      `tools/call load: ${config.sseLoadConnections} connections × ${config.sseLoadSeconds} s each`,
      renderTable(loadRows),
      ...notes.map((n2) => `note: ${n2}`),
    ].join('\n');
    return { report, valid };
  } finally {
    inspector?.close();
    await server.stop();
    await issuer.close();
  }
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
