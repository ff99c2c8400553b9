/**
 * The record of one run for export: step events (connect, and the doctor's login), the doctor's own requests and
 * its check results, in the order they happened. Everything in it is already redacted by the client (http.ts,
 * redact.ts); the exporters (JSON lines, Mermaid, HAR) read only this.
 */
import type { CheckResult, Evidence } from '../doctor/check.ts';
import type { DoctorObserver } from '../doctor/run.ts';
import type { FlowObserver, HttpRecord, StepEvent, StepName } from '../events.ts';

export type TraceEntry =
  | { readonly type: 'step'; readonly at: string; readonly event: StepEvent }
  | { readonly type: 'http'; readonly at: string; readonly exchange: Evidence }
  | { readonly type: 'check'; readonly at: string; readonly result: CheckResult };

/** One HTTP exchange in run order, with the step it belongs to (undefined for the doctor's own probes). */
export interface TracedExchange {
  readonly record: HttpRecord & { readonly purpose?: string; readonly body?: string };
  readonly step: StepName | undefined;
}

export interface Trace {
  /** The MCP server URL the run was for (its origin is the RS in diagrams). */
  readonly serverUrl: string;
  readonly entries: readonly TraceEntry[];
}

/** Collects a run's trace while passing every event on to the observer that renders it. */
export class TraceRecorder {
  readonly #entries: TraceEntry[] = [];
  readonly serverUrl: string;
  constructor(serverUrl: string) {
    this.serverUrl = serverUrl;
  }

  trace(): Trace {
    return { serverUrl: this.serverUrl, entries: [...this.#entries] };
  }

  /** A flow observer (connect, tools, call) that records and forwards. */
  flow(next: FlowObserver): FlowObserver {
    return {
      step: (event) => {
        this.#entries.push({ type: 'step', at: new Date().toISOString(), event });
        next.step(event);
      },
      diagnostic: (d) => next.diagnostic(d),
    };
  }

  /** A doctor observer that records and forwards. */
  doctor(next: DoctorObserver): DoctorObserver {
    return {
      check: (result, def) => {
        this.#entries.push({ type: 'check', at: new Date().toISOString(), result });
        next.check(result, def);
      },
      diagnostic: (d) => next.diagnostic(d),
      step: (event) => {
        this.#entries.push({ type: 'step', at: new Date().toISOString(), event });
        next.step?.(event);
      },
      exchange: (exchange) => {
        this.#entries.push({ type: 'http', at: new Date().toISOString(), exchange });
        next.exchange?.(exchange);
      },
    };
  }
}

/** Every HTTP exchange of the trace, in order. */
export function exchangesOf(trace: Trace): TracedExchange[] {
  const out: TracedExchange[] = [];
  for (const e of trace.entries) {
    if (e.type === 'step') for (const record of e.event.http) out.push({ record, step: e.event.step });
    else if (e.type === 'http') out.push({ record: e.exchange, step: undefined });
  }
  return out;
}

/** `--trace-out`: one JSON object per entry (JSON Lines). */
export function toJsonLines(trace: Trace): string {
  return trace.entries.map((e) => JSON.stringify(e)).join('\n') + (trace.entries.length ? '\n' : '');
}
