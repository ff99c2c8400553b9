/**
 * `mcp-lab-client doctor`: probes an MCP server and its authorization server, module by module, and reports one
 * verdict per check. It needs nothing of the lab: any MCP server URL will do.
 */
import { messageOf } from '../errors.ts';
import type { Diagnostic, StepEvent } from '../events.ts';
import type { FetchLike } from '../http.ts';
import type { CheckDefinition, CheckResult, Evidence } from './check.ts';
import { createDoctorContext, type HostProbe, type ProtocolEra } from './context.ts';
import { credentialsModule, type DoctorCredentials } from './credentials.ts';
import { nodeHostProbe } from './host-probe.ts';
import type { CheckModule } from './module.ts';
import { DISCOVERY_MODULES, TOKEN_MODULES, checkDefinition } from './registry.ts';

/** What the doctor tells its renderers and exporters as it goes. */
export interface DoctorObserver {
  check(result: CheckResult, definition: CheckDefinition): void;
  diagnostic(d: Diagnostic): void;
  /** Step events of the login (the client's own steps). */
  step?(event: StepEvent): void;
  /** Every request the doctor itself sent, in order. */
  exchange?(evidence: Evidence): void;
}

export interface DoctorOptions extends DoctorCredentials {
  readonly serverUrl: string;
  readonly fetch: FetchLike;
  readonly observer: DoctorObserver;
  readonly protocolEra?: ProtocolEra;
  readonly hostProbe?: HostProbe;
}

export interface DoctorReport {
  readonly serverUrl: string;
  readonly results: readonly CheckResult[];
  readonly counts: Readonly<Record<CheckResult['verdict'], number>>;
}

/** Exit code of a doctor run: 0 only when no check failed. */
export function doctorExitCode(report: DoctorReport): 0 | 1 {
  return report.counts.fail > 0 ? 1 : 0;
}

export class DoctorUsageError extends Error {
  override readonly name = 'DoctorUsageError';
}

/** Runs every check once; a module that throws (a doctor bug, not a server fault) leaves its checks not-applicable. */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  let serverUrl: string;
  try {
    const u = new URL(opts.serverUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError('not http(s)');
    serverUrl = u.href;
  } catch (cause) {
    throw new DoctorUsageError(`not an http(s) URL: ${opts.serverUrl}`, { cause });
  }
  const ctx = createDoctorContext(
    serverUrl,
    { protocolEra: opts.protocolEra ?? 'auto', hostProbe: opts.hostProbe ?? nodeHostProbe },
    opts.fetch,
    (result) => opts.observer.check(result, checkDefinition(result.id)),
    (message, level) => opts.observer.diagnostic({ level, message }),
    (evidence) => opts.observer.exchange?.(evidence),
  );
  const modules: CheckModule[] = [...DISCOVERY_MODULES, credentialsModule(opts, opts.fetch, (e) => opts.observer.step?.(e)), ...TOKEN_MODULES];
  for (const module of modules) {
    if (ctx.facts.probe && ctx.facts.probe.status === undefined) {
      // Nothing answers at the URL: one failure (challenge-401) says so; every other check cannot be made.
      for (const def of module.checks) ctx.report(def, 'not-applicable', 'the MCP server cannot be reached (see challenge-401)');
      continue;
    }
    try {
      await module.run(ctx);
    } catch (err) {
      ctx.diagnostic(`doctor module ${module.name} stopped: ${messageOf(err)}`, 'warn');
    }
    for (const def of module.checks) {
      if (!ctx.results.some((r) => r.id === def.id)) ctx.report(def, 'not-applicable', `the doctor could not make this check (module ${module.name} stopped early)`);
    }
  }
  const counts = { pass: 0, fail: 0, warn: 0, 'not-applicable': 0 };
  for (const r of ctx.results) counts[r.verdict]++;
  return { serverUrl, results: ctx.results, counts };
}
