/**
 * What a step gets from the orchestrator: the recording fetch, a place for its checks, and a diagnostic channel.
 */
import type { Check } from './events.ts';
import type { FetchLike } from './http.ts';
import { refuse } from './errors.ts';

export interface StepContext {
  /** Recording fetch; every request a step makes goes through it. */
  readonly fetch: FetchLike;
  /** Records a check; when it failed, throws a FlowError that refuses to go on. */
  check(name: string, ok: boolean, detail?: string, hint?: string): void;
  /** Records a check without stopping the flow (a fallback that was tried, a note). */
  record(check: Check): void;
  /** A line for the person at the terminal (stderr). */
  diagnostic(message: string, level?: 'info' | 'warn'): void;
}

/** A context that keeps checks in an array; the orchestrator and tests use it. */
export function createStepContext(
  fetch: FetchLike,
  onDiagnostic: (message: string, level: 'info' | 'warn') => void = () => undefined,
): StepContext & { readonly checks: Check[] } {
  const checks: Check[] = [];
  return {
    fetch,
    checks,
    check(name, ok, detail, hint) {
      checks.push(detail === undefined ? { name, ok } : { name, ok, detail });
      if (!ok) {
        const err = refuse(name, detail ?? 'failed', hint);
        throw err;
      }
    },
    record(check) {
      checks.push(check);
    },
    diagnostic(message, level = 'info') {
      onDiagnostic(message, level);
    },
  };
}
