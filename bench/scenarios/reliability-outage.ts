/**
 * Part 2 of the reliability scenario (issue 13): an IdP outage of BENCH_OUTAGE_MINUTES with the key set aged past
 * its max age, on an in-process RS with an injected clock (no waiting 15 minutes): the IdP hangs every request;
 * valid requests (new tokens, cached tokens, calls in a session) must all succeed, none waiting longer than the
 * JWKS timeout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../mcp-server/src/app.ts';
import { loadConfig, type RsConfig } from '../../mcp-server/src/config.ts';
import { freePort } from '@mcp-lab/test-kit/free-port';
import type { BenchConfig } from '../config.ts';
import { startBenchIssuer, type BenchIssuer } from '../jwt.ts';
import { BENCH_SUBJECT, isWhoamiResult, openSession, TOOLS_CALL_BODY } from '../mcp.ts';
import { renderTable, type Log } from '../report.ts';
import { SCOPE, type Part } from './reliability-traffic.ts';

/** The in-process RS under test, its IdP and the clock injected into it. */
interface OutageRig {
  readonly issuer: BenchIssuer;
  readonly origin: string;
  readonly clock: { t: number };
  readonly rsConfig: RsConfig;
  readonly timeoutMs: number;
  /** A token for `subject`, issued at the injected clock's time and valid for the whole outage. */
  readonly token: (subject: string) => Promise<string>;
}

/** What the outage steps measured. */
interface OutageRun {
  readonly latencies: readonly number[];
  readonly failures: number;
  readonly failureSamples: ReadonlySet<string>;
  readonly steps: number;
  readonly realS: number;
  readonly idpAttempts: number;
}

/**
 * Part 2: the outage, in process with an injected clock.
 * @returns the report lines, valid when no request failed or waited past the JWKS timeout and the RS recovered.
 */
export async function runOutage(config: BenchConfig, log: Log): Promise<Part> {
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
    const ttlS = (config.outageMinutes + 60) * 60;
    const token = (subject: string) =>
      issuer.mint({ audience: `${origin}/mcp`, scope: SCOPE, subject, issuedAtS: Math.floor(clock.t / 1000), ttlS });
    const rig: OutageRig = { issuer, origin, clock, rsConfig, timeoutMs, token };
    const session = await openSession(`${origin}/mcp`, await token(BENCH_SUBJECT));
    const run = await runOutageSteps(config, rig, session.headers);
    log(`outage: ${run.latencies.length} requests over ${config.outageMinutes} simulated minutes (${run.realS.toFixed(1)} s real), ${run.failures} failed`);
    const recovered = await awaitRecovery(rig, session.headers);
    return outageReport(config, rig, run, recovered);
  } finally {
    await app?.close();
    await issuer.close();
  }
}

/** Ages the key set past its maximum age, takes the IdP down (every request hangs) and sends each step's requests. */
async function runOutageSteps(config: BenchConfig, rig: OutageRig, whoamiHeaders: Readonly<Record<string, string>>): Promise<OutageRun> {
  const { issuer, origin, clock, rsConfig, token } = rig;
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
    jobs.push(timedOpen(`${origin}/mcp`, () => token(`outage-opener-${step}`)));
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
  return { latencies, failures, failureSamples, steps, realS, idpAttempts: issuer.requests() - idpBefore };
}

/** The IdP comes back: a refresh after the retry window (awaited or in the background) reaches it and answers. */
async function awaitRecovery(rig: OutageRig, whoamiHeaders: Readonly<Record<string, string>>): Promise<boolean> {
  const { issuer, origin, clock, rsConfig, timeoutMs } = rig;
  issuer.setOutage('up');
  const atUp = issuer.requests();
  let recovered = false;
  for (let i = 0; i < 10 && !recovered; i++) {
    clock.t += rsConfig.jwksRetryMs;
    const after = await timed(`${origin}/mcp`, whoamiHeaders, TOOLS_CALL_BODY);
    await sleep(timeoutMs);
    recovered = after.status === 200 && issuer.requests() > atUp;
  }
  return recovered;
}

/** Part 2's table and verdicts against its targets. */
function outageReport(config: BenchConfig, rig: OutageRig, run: OutageRun, recovered: boolean): Part {
  const { rsConfig, timeoutMs } = rig;
  const { latencies, failures, failureSamples, steps, realS, idpAttempts } = run;
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
}

/** Opens a session with a new token, timed; a failure keeps its message as the body. */
async function timedOpen(url: string, token: () => Promise<string>): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  try {
    await openSession(url, await token());
    return { status: 200, body: '', ms: performance.now() - t0 };
  } catch (err) {
    return { status: 0, body: (err as Error).message, ms: performance.now() - t0 };
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
