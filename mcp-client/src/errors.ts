/**
 * The one error the flow throws: it names the step that failed, says why, and what the user can do.
 */
import type { Check, StepName } from './events.ts';

export class FlowError extends Error {
  override readonly name = 'FlowError';
  /** The step in which the failure happened (set by the orchestrator when a step throws). */
  step: StepName | undefined;
  /** What the user can do about it. */
  readonly hint: string | undefined;
  /** The check that failed, when a protocol check refused to go on. */
  readonly check: Check | undefined;
  constructor(message: string, options: { hint?: string; check?: Check; step?: StepName; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.check = options.check;
    this.step = options.step;
  }
}

/** A protocol check failed: the flow refuses to continue. */
export function refuse(name: string, detail: string, hint?: string): FlowError {
  return new FlowError(`${name}: ${detail}`, { check: { name, ok: false, detail }, ...(hint ? { hint } : {}) });
}

/** The message of any thrown value, for wrapping lower-layer errors. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
