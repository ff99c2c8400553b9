/**
 * The human rendering of step events: each step, its HTTP exchanges, its checks and what it learned.
 */
import type { FlowObserver, StepEvent } from '../events.ts';
import type { Sink } from './json.ts';

export interface PrettyOptions {
  readonly color: boolean;
}

function paint(color: boolean, code: string, s: string): string {
  return color ? `\u001b[${code}m${s}\u001b[0m` : s;
}

function value(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function renderStep(event: StepEvent, opts: PrettyOptions): string {
  const ok = event.status === 'ok';
  const mark = ok ? paint(opts.color, '32', '✔') : paint(opts.color, '31', '✘');
  const lines = [`${mark} ${paint(opts.color, '1', event.step.padEnd(18))} ${paint(opts.color, '2', `${event.ms} ms`)}`];
  for (const h of event.http) {
    lines.push(`    ${h.method} ${h.url} → ${h.status}`);
    for (const [k, v] of Object.entries(h.headers)) lines.push(paint(opts.color, '2', `        ${k}: ${v}`));
  }
  for (const c of event.checks) {
    const cm = c.ok ? paint(opts.color, '32', '✓') : paint(opts.color, '31', '✗');
    lines.push(`    ${cm} ${c.name}${c.detail ? paint(opts.color, '2', ` — ${c.detail}`) : ''}`);
  }
  for (const [k, v] of Object.entries(event.data)) {
    if (v === undefined) continue;
    const text = value(v);
    lines.push(`    ${paint(opts.color, '36', k)}: ${text.length > 400 ? `${text.slice(0, 400)}…` : text}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Step events to stdout, diagnostics to stderr. */
export function prettyObserver(sink: Sink, opts: PrettyOptions): FlowObserver {
  return {
    step(event) {
      sink.out(renderStep(event, opts));
    },
    diagnostic(d) {
      sink.err(`${d.level === 'warn' ? paint(opts.color, '33', 'warning: ') : ''}${d.message}\n`);
    },
  };
}
