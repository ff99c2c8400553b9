/**
 * The human view of a doctor run: one line per check; for a failure or warning its evidence, the fix, the spec
 * section and the catalog entry it links. Diagnostics go to stderr.
 */
import type { Sink } from '../../render/json.ts';
import { catalogLink, type CheckDefinition, type CheckResult, type Verdict } from '../check.ts';
import type { DoctorReport, DoctorObserver } from '../run.ts';

export interface DoctorPrettyOptions {
  readonly color: boolean;
}

const MARKS: Record<Verdict, { mark: string; code: string }> = {
  pass: { mark: '✔', code: '32' },
  fail: { mark: '✘', code: '31' },
  warn: { mark: '!', code: '33' },
  'not-applicable': { mark: '–', code: '2' },
};

function paint(color: boolean, code: string, s: string): string {
  return color ? `\u001b[${code}m${s}\u001b[0m` : s;
}

/** The lines of one check result. */
export function renderCheck(result: CheckResult, def: CheckDefinition, opts: DoctorPrettyOptions): string {
  const m = MARKS[result.verdict];
  const lines = [`${paint(opts.color, m.code, m.mark)} ${paint(opts.color, '1', result.id.padEnd(40))} ${result.summary}`];
  if (result.verdict === 'fail' || result.verdict === 'warn') {
    for (const e of result.evidence) {
      lines.push(paint(opts.color, '2', `    ${e.method} ${e.url} → ${e.status || 'no answer'}   (${e.purpose})`));
      for (const [k, v] of Object.entries(e.headers)) lines.push(paint(opts.color, '2', `        ${k}: ${v}`));
      if (e.body) lines.push(paint(opts.color, '2', `        body: ${e.body.replace(/\s+/g, ' ').trim()}`));
    }
    lines.push(`    fix: ${def.fix}`);
    lines.push(paint(opts.color, '2', `    spec: ${def.spec.section} ${def.spec.url}`));
    lines.push(paint(opts.color, '2', `    see: ${catalogLink(def.id)}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The closing line. */
export function renderSummary(report: DoctorReport): string {
  const c = report.counts;
  return `doctor ${report.serverUrl}: ${c.pass} pass, ${c.fail} fail, ${c.warn} warn, ${c['not-applicable']} not applicable\n`;
}

export function doctorPrettyObserver(sink: Sink, opts: DoctorPrettyOptions): DoctorObserver {
  return {
    check(result, def) {
      sink.out(renderCheck(result, def, opts));
    },
    diagnostic(d) {
      sink.err(`${d.level === 'warn' ? paint(opts.color, '33', 'warning: ') : ''}${d.message}\n`);
    },
  };
}
