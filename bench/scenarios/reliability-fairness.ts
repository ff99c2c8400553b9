/**
 * Part 1 of the reliability scenario (issue 13): user B's whoami p99 unloaded and while user A hammers notes_list
 * on a store filled to its quota and holds sessions and SSE streams up to the per-subject caps; the RS's RSS
 * before and after, both after a forced GC.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchConfig } from '../config.ts';
import { inspectorFromOutput, type InspectorClient } from '../inspector.ts';
import { startBenchIssuer } from '../jwt.ts';
import { runLoad } from '../load.ts';
import { BENCH_SUBJECT, isWhoamiResult, openSession, TOOLS_CALL_BODY } from '../mcp.ts';
import { rssKiB } from '../proc.ts';
import { renderTable, type Log } from '../report.ts';
import { startRsProcess } from '../targets.ts';
import {
  ABUSER,
  fillToQuota,
  holdToCap,
  isNotesPage,
  isRateLimited,
  measurePaced,
  NOTE_CHARS,
  SCOPE,
  type PacedRun,
  type Part,
} from './reliability-traffic.ts';

const SETTLE_MS = 2_000;
/** Long enough for a default token bucket (burst 100 at 50/s) to be full again. */
const RATE_REFILL_MS = 2_500;

/** What part 1 measured. */
interface FairnessRun {
  readonly unloaded: PacedRun;
  readonly loaded: PacedRun;
  readonly hammer: Awaited<ReturnType<typeof runLoad>>;
  readonly filled: Awaited<ReturnType<typeof fillToQuota>>;
  readonly held: Awaited<ReturnType<typeof holdToCap>>;
  readonly rssStart: number;
  readonly rssEnd: number;
  readonly notes: readonly string[];
}

/**
 * Part 1, fairness: an RS child process with its default limits, B at a steady rate, A abusing its quota and caps.
 * @returns the report lines, valid when every B and A request was answered as expected and the caps held.
 */
export async function runFairness(config: BenchConfig, log: Log): Promise<Part> {
  const issuer = await startBenchIssuer();
  const { server, origin } = await startRsProcess({ issuer, rsLogLevel: config.rsLogLevel, nodeArgs: ['--inspect=127.0.0.1:0'] });
  const notes: string[] = [];
  let inspector: InspectorClient | undefined;
  try {
    inspector = await connectGcInspector(server.output(), notes);
    const tokenFor = (subject: string, path = '/mcp') => issuer.mint({ audience: `${origin}${path}`, scope: SCOPE, subject });
    const run = await measureFairness(config, log, { origin, pid: server.pid, inspector, tokenFor });
    return fairnessReport(config, { ...run, notes });
  } finally {
    inspector?.close();
    await server.stop();
    await issuer.close();
  }
}

/** The RS's inspector, to force a GC before each RSS sample; undefined (and a note) when it cannot be reached. */
async function connectGcInspector(output: string, notes: string[]): Promise<InspectorClient | undefined> {
  const inspector = await inspectorFromOutput(output);
  if (!('failure' in inspector)) return inspector;
  notes.push(`no forced GC before the RSS samples (${inspector.failure})`);
  return undefined;
}

interface FairnessTarget {
  readonly origin: string;
  readonly pid: number;
  readonly inspector: InspectorClient | undefined;
  readonly tokenFor: (subject: string, path?: string) => Promise<string>;
}

/** B unloaded, A fills its quota and holds its caps, then B again while A hammers notes_list. */
async function measureFairness(config: BenchConfig, log: Log, target: FairnessTarget): Promise<Omit<FairnessRun, 'notes'>> {
  const { origin, pid, inspector, tokenFor } = target;
  const mcpUrl = `${origin}/mcp`;
  const b = await openSession(mcpUrl, await tokenFor(BENCH_SUBJECT));
  const a = await openSession(mcpUrl, await tokenFor(ABUSER));
  // B is an ordinary user: requests at a steady rate within the per-subject limit, each timed.
  const bRun = (title: string, durationS = config.reliabilitySeconds) =>
    measurePaced(title, mcpUrl, b.headers, TOOLS_CALL_BODY, config.reliabilityBRatePerS, durationS, isWhoamiResult);

  await bRun('warmup', Math.max(config.warmupSeconds, 1));
  const rssStart = await rssAfterGc(pid, inspector);
  const unloaded = await bRun("B's whoami, unloaded");
  log(`B unloaded: p99 ${unloaded.p99Ms.toFixed(2)} ms`);

  const filled = await fillToQuota(mcpUrl, a);
  log(`A stored ${filled.stored} notes of ${NOTE_CHARS} characters; refused next: ${filled.refusal}`);
  // Let A's token bucket refill after the fill, so that opening sessions is limited by the caps, not the rate.
  await sleep(RATE_REFILL_MS);
  const held = await holdToCap(origin, a, () => tokenFor(ABUSER), () => tokenFor(ABUSER, '/sse'));
  log(`A holds ${held.sessions} sessions (next: HTTP ${held.sessionRefusal}) and ${held.streams} SSE streams (next: HTTP ${held.streamRefusal})`);

  const listBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'notes_list', arguments: {} } });
  const [loaded, hammer] = await Promise.all([
    bRun("B's whoami, while A hammers"),
    runLoad({
      title: "A's notes_list (one full page each)",
      url: mcpUrl,
      method: 'POST',
      headers: a.headers,
      body: listBody,
      connections: config.reliabilityAConnections,
      durationS: config.reliabilitySeconds,
      validate: (body) => isNotesPage(body) || isRateLimited(body),
    }),
  ]);
  log(`B loaded: p99 ${loaded.p99Ms.toFixed(2)} ms; A: ${hammer.statusCodes['200'] ?? 0} pages, ${hammer.statusCodes['429'] ?? 0} refused (429)`);

  await held.close();
  await sleep(SETTLE_MS);
  const rssEnd = await rssAfterGc(pid, inspector);
  return { unloaded, loaded, hammer, filled, held, rssStart, rssEnd };
}

/** Part 1's table and verdicts against its targets (B's p99 ratio ≤ 2×, RSS within 20 %). */
function fairnessReport(config: BenchConfig, run: FairnessRun): Part {
  const { unloaded, loaded, hammer, filled, held, rssStart, rssEnd } = run;
  const aAnswered = hammer.statusCodes['200'] ?? 0;
  const aLimited = hammer.statusCodes['429'] ?? 0;
  const ratio = loaded.p99Ms / unloaded.p99Ms;
  const rssChange = (rssEnd - rssStart) / rssStart;
  const capsHeld = held.sessionRefusal === 429 && held.streamRefusal === 429 && filled.refusal.startsWith('storage limit reached');
  const rows: string[][] = [['run', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'responses', 'verdict']];
  for (const r of [unloaded, loaded]) {
    rows.push([r.title, r.requestsPerS.toFixed(0), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), r.maxMs.toFixed(2), String(r.responses), r.failures === 0 ? 'valid' : `INVALID (${r.failures} bad)`]);
  }
  const aValid = hammer.errors === 0 && hammer.badBodies === 0 && aAnswered + aLimited === hammer.responses;
  rows.push([
    hammer.title,
    hammer.requestsPerS.toFixed(0),
    String(hammer.p50Ms),
    String(hammer.p99Ms),
    '',
    `${hammer.responses} (${aAnswered} pages, ${aLimited} × 429)`,
    aValid ? 'valid' : `INVALID ${JSON.stringify(hammer.statusCodes)} bad=${hammer.badBodies} err=${hammer.errors}`,
  ]);
  const lines = [
    `Part 1 — fairness: RS child process with its default limits; B = whoami at ${config.reliabilityBRatePerS}/s, ` +
      `A = ${config.reliabilityAConnections} connections of notes_list, ${config.reliabilitySeconds} s each`,
    `A's store: ${filled.stored} notes of ${NOTE_CHARS} characters (quota), next notes_add refused: "${filled.refusal}"`,
    `A's sessions: ${held.sessions} Streamable HTTP sessions held (next initialize: HTTP ${held.sessionRefusal}), ` +
      `${held.streams} SSE streams held (next GET /sse: HTTP ${held.streamRefusal})`,
    renderTable(rows),
    `B's p99 loaded/unloaded: ${loaded.p99Ms.toFixed(2)} / ${unloaded.p99Ms.toFixed(2)} ms = ${ratio.toFixed(2)}× ` +
      `(target ≤ 2×: ${ratio <= 2 ? 'met' : 'NOT met'}; B's latency is timed per request with performance.now, A's by autocannon)`,
    `RS RSS after a forced GC: start ${(rssStart / 1024).toFixed(1)} MiB, after the run ${(rssEnd / 1024).toFixed(1)} MiB ` +
      `(${(rssChange * 100).toFixed(1)} %; target within 20 %: ${Math.abs(rssChange) <= 0.2 ? 'met' : 'NOT met'})`,
    ...run.notes.map((n) => `note: ${n}`),
  ];
  return { lines, valid: unloaded.failures === 0 && loaded.failures === 0 && aValid && capsHeld };
}

async function rssAfterGc(pid: number, inspector: InspectorClient | undefined): Promise<number> {
  await inspector?.heapAfterGc();
  return rssKiB(pid);
}
