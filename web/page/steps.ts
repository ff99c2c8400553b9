/**
 * Runs the page's steps the way the CLI's orchestrator does: each step gets a StepContext whose fetch records
 * every exchange (redacted), and ends as one StepEvent — the same shape as `mcp-lab-client --json`.
 */
import { type HttpRecord, type StepEvent, type StepName, FlowError, messageOf, HttpRecorder, type FetchLike, createStepContext, type StepContext } from 'mcp-lab-client/browser';

/** A request the browser refused to let the page read: a network error or, far more often here, CORS. */
export class BrowserBlockedError extends Error {
  override readonly name = 'BrowserBlockedError';
  readonly url: string;
  constructor(url: string, cause: unknown) {
    super(`the browser could not read ${url}: the request failed or the server's CORS does not allow ${location.origin}`, { cause });
    this.url = url;
  }
}

/** Every URL the browser refused to let the page read in this page load (shown when the run fails). */
export const blockedUrls: string[] = [];

/** The browser's fetch; a TypeError (how fetch reports a CORS refusal) becomes a BrowserBlockedError. */
export const browserFetch: FetchLike = async (input, init) => {
  try {
    return await fetch(input, init);
  } catch (err) {
    if (err instanceof TypeError) {
      const url = input instanceof Request ? input.url : String(input);
      const blocked = new BrowserBlockedError(url.split('?', 1)[0] ?? url, err);
      blockedUrls.push(blocked.url);
      throw blocked;
    }
    throw err;
  }
};

/** The context a page step gets: the CLI's StepContext plus a way to record exchanges made without fetch. */
export interface PageStepContext extends StepContext {
  readonly recorder: HttpRecorder;
}

export type StepListener = (event: StepEvent) => void;

/** The first BrowserBlockedError in an error's cause chain. */
export function blockedBy(err: unknown): BrowserBlockedError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof BrowserBlockedError) return e;
  }
  return undefined;
}

export class StepRunner {
  readonly events: StepEvent[];
  readonly #listeners: StepListener[] = [];
  #current: PageStepContext | undefined;

  /** A fetch that records into whichever step is running (for transports that outlive one step). */
  readonly fetch: FetchLike = (input, init) => (this.#current?.fetch ?? browserFetch)(input, init);

  /** Records an exchange made without fetch into the running step. */
  add(record: HttpRecord): void {
    this.#current?.recorder.add(record);
  }

  constructor(previous: readonly StepEvent[] = []) {
    this.events = [...previous];
  }

  onStep(listener: StepListener): void {
    this.#listeners.push(listener);
  }

  /** Runs one step; emits its event, ok or fail, and rethrows a failure (as a FlowError naming the step). */
  async run<T>(step: StepName, fn: (ctx: PageStepContext) => Promise<T>, data: (result: T) => Record<string, unknown> = () => ({})): Promise<T> {
    const recorder = new HttpRecorder();
    const ctx = Object.assign(createStepContext(recorder.wrap(browserFetch)), { recorder });
    const started = performance.now();
    this.#current = ctx;
    try {
      const result = await fn(ctx);
      this.#emit({ step, status: 'ok', http: recorder.take(), checks: ctx.checks, ms: Math.round(performance.now() - started), data: data(result) });
      return result;
    } catch (err) {
      const failed = err instanceof FlowError ? err : new FlowError(messageOf(err), { cause: err });
      failed.step ??= step;
      const checks = failed.check && !ctx.checks.includes(failed.check) ? [...ctx.checks, failed.check] : ctx.checks;
      this.#emit({ step, status: 'fail', http: recorder.take(), checks, ms: Math.round(performance.now() - started), data: { error: failed.message, ...(failed.hint ? { hint: failed.hint } : {}) } });
      throw failed;
    } finally {
      this.#current = undefined;
    }
  }

  #emit(event: StepEvent): void {
    this.events.push(event);
    for (const l of this.#listeners) l(event);
  }
}
