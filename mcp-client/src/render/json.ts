/**
 * `--json`: one JSON object per step event on stdout (JSON Lines); diagnostics as plain lines on stderr.
 */
import type { FlowObserver } from '../events.ts';

export interface Sink {
  out(text: string): void;
  err(text: string): void;
}

export function jsonObserver(sink: Sink): FlowObserver {
  return {
    step(event) {
      sink.out(`${JSON.stringify(event)}\n`);
    },
    diagnostic(d) {
      sink.err(`${d.level === 'warn' ? 'warning: ' : ''}${d.message}\n`);
    },
  };
}
