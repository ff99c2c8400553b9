import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../mcp-server/src/app.ts';
import { loadConfig } from '../../mcp-server/src/config.ts';
import { freePort } from '@mcp-lab/test-kit/free-port';
import type { BenchConfig } from '../config.ts';
import { connectInspector, inspectorUrlFrom, type InspectorClient } from '../inspector.ts';
import { startBenchIssuer, type BenchIssuer } from '../jwt.ts';
import { runLoad } from '../load.ts';
import { BENCH_SUBJECT, isWhoamiResult, jsonRpcMessages, openSession, TOOLS_CALL_BODY, type McpSession } from '../mcp.ts';
import { rssKiB } from '../proc.ts';
import { machineLine, renderTable, type Log } from '../report.ts';
import { rsAvailable, startRsProcess } from '../targets.ts';

const SCOPE = 'notes:read notes:write';
const ABUSER = 'bench-abuser';
/** The RS's defaults (mcp-server/src/config.ts LIMIT_SPECS); the scenario runs the RS with them, unchanged. */
const NOTE_CHARS = 2_000;
const SETTLE_MS = 2_000;
/** Long enough for a default token bucket (burst 100 at 50/s) to be full again. */
const RATE_REFILL_MS = 2_500;

/**
 * Scenario 4, reliability (issue 13):
 * 1. user B's whoami p99 unloaded, then while user A (a) hammers notes_list on a store filled to A's quota and
 *    (b) holds Streamable HTTP sessions and SSE streams up to the per-subject caps (one more of each must be
 *    refused with 429); B's loaded/unloaded p99 ratio (target ≤ 2×), and the RS's RSS after the run vs before
 *    (target within 20 %), both after a forced GC;
 * 2. an IdP outage of BENCH_OUTAGE_MINUTES with the key set aged past its max age, on an in-process RS with an
 *    injected clock (no waiting 15 minutes): the IdP hangs every request; valid requests (new tokens, cached
 *    tokens, calls in a session) must all succeed, none waiting longer than the JWKS timeout.
 */
export async function runReliability(config: BenchConfig, log: Log): Promise<{ report: string; valid: boolean }> {
  if (!rsAvailable()) return { report: 'reliability scenario: lab RS not available', valid: false };
  const loadBefore = loadavg();
  const fairness = await runFairness(config, log);
  const outage = await runOutage(config, log);
  const report = [
    'Reliability (issue 13): one user cannot starve another; an IdP outage does not fail valid requests',
    machineLine(loadBefore),
    '',
    ...fairness.lines,
    '',
    ...outage.lines,
  ].join('\n');
  return { report, valid: fairness.valid && outage.valid };
}

interface Part {
  readonly lines: string[];
  readonly valid: boolean;
}

async function runFairness(config: BenchConfig, log: Log): Promise<Part> {
  const issuer = await startBenchIssuer();
  const { server, origin } = await startRsProcess({ issuer, rsLogLevel: config.rsLogLevel, nodeArgs: ['--inspect=127.0.0.1:0'] });
  let inspector: InspectorClient | undefined;
  const notes: string[] = [];
  try {
    const wsUrl = inspectorUrlFrom(server.output());
    try {
      if (wsUrl === undefined) throw new Error('the RS printed no inspector URL');
      inspector = await connectInspector(wsUrl);
    } catch (err) {
      notes.push(`no forced GC before the RSS samples (${(err as Error).message})`);
    }
    const mcpUrl = `${origin}/mcp`;
    const tokenFor = (subject: string, path = '/mcp') => issuer.mint({ audience: `${origin}${path}`, scope: SCOPE, subject });
    const b = await openSession(mcpUrl, await tokenFor(BENCH_SUBJECT));
    const a = await openSession(mcpUrl, await tokenFor(ABUSER));
    // B is an ordinary user: requests at a steady rate within the per-subject limit, each timed.
    const bRun = (title: string, durationS = config.reliabilitySeconds) =>
      measurePaced(title, mcpUrl, b.headers, TOOLS_CALL_BODY, config.reliabilityBRatePerS, durationS, isWhoamiResult);

    await bRun('warmup', Math.max(config.warmupSeconds, 1));
    const rssStart = await rssAfterGc(server.pid, inspector);
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
    const aAnswered = hammer.statusCodes['200'] ?? 0;
    const aLimited = hammer.statusCodes['429'] ?? 0;
    log(`B loaded: p99 ${loaded.p99Ms.toFixed(2)} ms; A: ${aAnswered} pages, ${aLimited} refused (429)`);

    await held.close();
    await sleep(SETTLE_MS);
    const rssEnd = await rssAfterGc(server.pid, inspector);

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
      ...notes.map((n) => `note: ${n}`),
    ];
    return { lines, valid: unloaded.failures === 0 && loaded.failures === 0 && aValid && capsHeld };
  } finally {
    inspector?.close();
    await server.stop();
    await issuer.close();
  }
}

async function rssAfterGc(pid: number, inspector: InspectorClient | undefined): Promise<number> {
  await inspector?.heapAfterGc();
  return rssKiB(pid);
}

interface PacedRun {
  readonly title: string;
  readonly responses: number;
  readonly failures: number;
  readonly requestsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Requests at `ratePerS` (one every 1/rate s, each awaited before the next is due) for `durationS`, each timed with
 * performance.now (autocannon's 1 ms histogram cannot tell a 0.4 ms p99 from a 0.9 ms one).
 */
async function measurePaced(
  title: string,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  ratePerS: number,
  durationS: number,
  validate: (body: string) => boolean,
): Promise<PacedRun> {
  const latencies: number[] = [];
  let failures = 0;
  const intervalMs = 1000 / ratePerS;
  const start = performance.now();
  for (let i = 0; i < ratePerS * durationS; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers, body });
    const text = await res.text();
    latencies.push(performance.now() - t0);
    if (res.status !== 200 || !validate(text)) failures++;
  }
  const sorted = latencies.sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  return {
    title,
    responses: sorted.length,
    failures,
    requestsPerS: sorted.length / ((performance.now() - start) / 1000),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: sorted.at(-1) ?? 0,
  };
}

function isRateLimited(body: string): boolean {
  try {
    return (JSON.parse(body) as { error?: { data?: { reason?: string } } }).error?.data?.reason === 'rate_limited';
  } catch {
    return false;
  }
}

/** A notes_list answer: a page (array) of notes, not a tool error. */
function isNotesPage(body: string): boolean {
  try {
    const [msg] = jsonRpcMessages(body) as Array<{ result?: { isError?: boolean; content?: Array<{ text?: string }> } }>;
    const text = msg?.result?.content?.[0]?.text;
    return msg?.result?.isError !== true && typeof text === 'string' && Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}

async function callTool(mcpUrl: string, session: McpSession, name: string, args: Record<string, unknown>) {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: session.headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
  const [msg] = jsonRpcMessages(await res.text()) as Array<{ result?: { isError?: boolean; content?: Array<{ text: string }> } }>;
  return { status: res.status, isError: msg?.result?.isError === true, text: msg?.result?.content?.[0]?.text ?? '' };
}

/** Adds notes for A until the store refuses one (the quota); returns how many and the refusal's text. */
async function fillToQuota(mcpUrl: string, a: McpSession): Promise<{ stored: number; refusal: string }> {
  const text = 'n'.repeat(NOTE_CHARS);
  for (let stored = 0; stored < 1_000_000; ) {
    const r = await callTool(mcpUrl, a, 'notes_add', { text });
    // A fills its store as fast as the per-subject rate lets it.
    if (r.status === 429) {
      await sleep(1_000);
      continue;
    }
    if (r.status !== 200) throw new Error(`notes_add answered HTTP ${r.status}`);
    if (r.isError) return { stored, refusal: r.text };
    stored++;
  }
  throw new Error('the notes store never refused a note');
}

/** Opens Streamable HTTP sessions and SSE streams for A until each is refused; keeps them open. */
async function holdToCap(origin: string, first: McpSession, mcpToken: () => Promise<string>, sseToken: () => Promise<string>) {
  const sessions: McpSession[] = [first];
  let sessionRefusal = 0;
  const token = await mcpToken();
  for (;;) {
    try {
      sessions.push(await openSession(`${origin}/mcp`, token));
    } catch (err) {
      const message = (err as Error).message;
      if (message.includes('rate_limited')) {
        await sleep(1_000);
        continue;
      }
      if (!message.includes('too_many_sessions')) throw err;
      sessionRefusal = Number(/answered (\d+)/.exec(message)?.[1] ?? 0);
      break;
    }
    if (sessions.length > 10_000) throw new Error('no session cap');
  }
  const headers = { authorization: `Bearer ${await sseToken()}`, accept: 'text/event-stream' };
  const controller = new AbortController();
  const streams: Response[] = [];
  let streamRefusal = 0;
  for (;;) {
    const res = await fetch(`${origin}/sse`, { headers, signal: controller.signal });
    if (res.status !== 200) {
      const text = await res.text();
      if (text.includes('rate_limited')) {
        await sleep(1_000);
        continue;
      }
      streamRefusal = text.includes('too_many_sessions') ? res.status : -res.status;
      break;
    }
    streams.push(res);
    if (streams.length > 10_000) throw new Error('no SSE stream cap');
  }
  return {
    sessions: sessions.length,
    sessionRefusal,
    streams: streams.length,
    streamRefusal,
    async close() {
      controller.abort();
      await Promise.all(
        sessions.slice(1).map((s) => fetch(`${origin}/mcp`, { method: 'DELETE', headers: s.headers }).then((r) => r.body?.cancel())),
      );
    },
  };
}

/** Part 2: the outage, in process with an injected clock. */
async function runOutage(config: BenchConfig, log: Log): Promise<Part> {
  const issuer = await startBenchIssuer();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const clock = { t: Date.now() };
  const timeoutMs = config.outageTimeoutMs;
  const rsConfig = loadConfig({
    MCP_ISSUER: issuer.issuer,
    MCP_PUBLIC_URL: origin,
    MCP_PORT: String(port),
    MCP_LOG_LEVEL: 'silent',
    MCP_JWKS_TIMEOUT_MS: String(timeoutMs),
  });
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp(rsConfig, { now: () => clock.t });
    await app.listen({ host: '127.0.0.1', port });
    const nowS = () => Math.floor(clock.t / 1000);
    const ttlS = (config.outageMinutes + 60) * 60;
    const token = (subject: string) => issuer.mint({ audience: `${origin}/mcp`, scope: SCOPE, subject, issuedAtS: nowS(), ttlS });
    const cachedToken = await token(BENCH_SUBJECT);
    const session = await openSession(`${origin}/mcp`, cachedToken);
    const whoamiHeaders = session.headers;

    // Age the key set past its maximum age, then take the IdP down (every request hangs).
    clock.t += rsConfig.jwksMaxAgeMs + 1_000;
    issuer.setOutage('hang');
    const idpBefore = issuer.requests();
    const latencies: number[] = [];
    let failures = 0;
    const failureSamples = new Set<string>();
    const stepMs = config.outageStepS * 1000;
    const steps = Math.ceil((config.outageMinutes * 60_000) / stepMs);
    const started = performance.now();
    for (let step = 0; step < steps; step++) {
      // Each step: calls in the session with the cached token, with a brand-new token, and a fresh session opened.
      // B's token re-minted each step (new iat): never seen, so it is verified in full against the stale key set.
      const fresh = await token(BENCH_SUBJECT);
      const jobs: Array<Promise<{ status: number; body: string; ms: number }>> = [];
      for (let i = 0; i < 4; i++) jobs.push(timed(`${origin}/mcp`, whoamiHeaders, TOOLS_CALL_BODY));
      for (let i = 0; i < 2; i++) jobs.push(timed(`${origin}/mcp`, { ...whoamiHeaders, authorization: `Bearer ${fresh}` }, TOOLS_CALL_BODY));
      jobs.push(
        (async () => {
          const t0 = performance.now();
          try {
            await openSession(`${origin}/mcp`, await token(`outage-opener-${step}`));
            return { status: 200, body: '', ms: performance.now() - t0 };
          } catch (err) {
            return { status: 0, body: (err as Error).message, ms: performance.now() - t0 };
          }
        })(),
      );
      for (const r of await Promise.all(jobs)) {
        latencies.push(r.ms);
        if (r.status !== 200) {
          failures++;
          if (failureSamples.size < 3) failureSamples.add(`${r.status} ${r.body.slice(0, 160)}`);
        }
      }
      clock.t += stepMs;
    }
    const realS = (performance.now() - started) / 1000;
    const idpAttempts = issuer.requests() - idpBefore;
    log(`outage: ${latencies.length} requests over ${config.outageMinutes} simulated minutes (${realS.toFixed(1)} s real), ${failures} failed`);

    // The IdP comes back: a refresh after the retry window (awaited or in the background) reaches it and answers.
    issuer.setOutage('up');
    const atUp = issuer.requests();
    let recovered = false;
    for (let i = 0; i < 10 && !recovered; i++) {
      clock.t += rsConfig.jwksRetryMs;
      const after = await timed(`${origin}/mcp`, whoamiHeaders, TOOLS_CALL_BODY);
      await sleep(timeoutMs);
      recovered = after.status === 200 && issuer.requests() > atUp;
    }

    const sorted = [...latencies].sort((x, y) => x - y);
    const maxMs = sorted.at(-1) ?? 0;
    const p99Ms = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    // A request that waited on the one refresh in flight waits at most the timeout, plus its own processing.
    const allowanceMs = 100;
    const over = latencies.filter((ms) => ms > timeoutMs + allowanceMs).length;
    const lines = [
      `Part 2 — IdP outage: in-process RS, injected clock; key set aged ${((rsConfig.jwksMaxAgeMs + 1_000) / 60_000).toFixed(1)} min ` +
        `(max age ${rsConfig.jwksMaxAgeMs / 60_000} min, stale window ${rsConfig.jwksMaxStaleMs / 60_000} min), then the IdP hangs every request ` +
        `for ${config.outageMinutes} simulated minutes in ${steps} steps of ${config.outageStepS} s (${realS.toFixed(1)} s real)`,
      renderTable([
        ['valid requests', 'failed', 'p99 ms', 'max ms', `over timeout (${timeoutMs} ms + ${allowanceMs} ms)`, 'IdP attempts', 'recovered after'],
        [String(latencies.length), String(failures), p99Ms.toFixed(1), maxMs.toFixed(1), String(over), String(idpAttempts), recovered ? 'yes' : 'NO'],
      ]),
      `targets: 0 failed (${failures === 0 ? 'met' : 'NOT met'}); none waits longer than the JWKS timeout (${over === 0 ? 'met' : 'NOT met'}); ` +
        `IdP attempts bounded by one per retry window of ${rsConfig.jwksRetryMs / 1000} s (${idpAttempts} for ${config.outageMinutes * 60} s)`,
      ...[...failureSamples].map((f) => `  failure: ${f}`),
    ];
    return { lines, valid: failures === 0 && over === 0 && recovered };
  } finally {
    await app?.close();
    await issuer.close();
  }
}

/** One POST, timed; a success is B's whoami result (a 200 with another body counts as status 299). */
async function timed(url: string, headers: Readonly<Record<string, string>>, body: string) {
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  const ms = performance.now() - t0;
  const ok = res.status === 200 && isWhoamiResult(text);
  return { status: ok ? 200 : res.status === 200 ? 299 : res.status, body: text, ms };
}
