import { loadavg } from 'node:os';
import type { BenchConfig } from '../config.ts';
import { machineLine, type Log } from '../report.ts';
import { rsAvailable } from '../targets.ts';
import { runFairness } from './reliability-fairness.ts';
import { runOutage } from './reliability-outage.ts';

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
