/**
 * `doctor --json`: one JSON object per check on stdout (JSON Lines), with the definition's spec section, fix and
 * catalog link next to the verdict and evidence.
 */
import type { Sink } from '../../render/json.ts';
import { catalogLink, type CheckDefinition, type CheckResult } from '../check.ts';
import type { DoctorObserver } from '../run.ts';

/** The JSON object of one check result. */
export function checkJson(result: CheckResult, def: CheckDefinition): Record<string, unknown> {
  return {
    id: result.id,
    verdict: result.verdict,
    summary: result.summary,
    title: def.title,
    concern: def.concern,
    spec: def.spec,
    fix: def.fix,
    help: catalogLink(def.id),
    evidence: result.evidence,
  };
}

export function doctorJsonObserver(sink: Sink): DoctorObserver {
  return {
    check(result, def) {
      sink.out(`${JSON.stringify(checkJson(result, def))}\n`);
    },
    diagnostic(d) {
      sink.err(`${d.level === 'warn' ? 'warning: ' : ''}${d.message}\n`);
    },
  };
}
