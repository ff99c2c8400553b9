/**
 * One run of the flow: the recording fetch, the cookie jar and the step runner that turns each step into an event.
 */
import { FlowError, messageOf } from '../errors.ts';
import { HttpRecorder } from '../http.ts';
import { CookieJar } from '../login/cookie-jar.ts';
import type { SecretSet } from '../redact.ts';
import { createStepContext } from '../step-context.ts';
import type { StoredTokens } from '../store.ts';
import type { FlowOptions, FlowRun, StepRunner } from './types.ts';

/**
 * A run's shared state. Its step runner emits one event per step: status, the HTTP exchanges the step made (from
 * the recording fetch), its checks, its time, and its data — on failure the error, its code, the hint and what the
 * caller decided to do next (`onFail`).
 */
export function createFlowRun(opts: FlowOptions): FlowRun {
  const recorder = new HttpRecorder();
  const fetch = recorder.wrap(opts.fetch);
  // Every printed value is searched for the credentials this run holds (redact.ts SecretSet), whoever echoed them.
  const secrets = recorder.secrets;
  const step: StepRunner = async (name, fn, onFail) => {
    const ctx = createStepContext(fetch, (message, level) => opts.observer.diagnostic({ level, message: secrets.scrub(message) }));
    recorder.take();
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    try {
      const [value, data] = await fn(ctx);
      rememberTokens(secrets, value);
      opts.observer.step(secrets.scrubDeep({ step: name, status: 'ok', http: recorder.take(), checks: ctx.checks, ms: ms(), data }));
      return value;
    } catch (cause) {
      const err = cause instanceof FlowError ? cause : new FlowError(messageOf(cause), { cause });
      err.step ??= name;
      err.message = secrets.scrub(err.message);
      const data = { error: err.message, code: err.code, ...(err.hint ? { hint: err.hint } : {}), ...(onFail ? onFail(err) : {}) };
      opts.observer.step(secrets.scrubDeep({ step: name, status: 'fail', http: recorder.take(), checks: ctx.checks, ms: ms(), data }));
      throw err;
    }
  };
  return { opts, fetch, jar: new CookieJar(), step, offlineRefused: false };
}

/** A step that returned tokens (stored, refreshed or new): the run now holds them, so they are never printed. */
function rememberTokens(secrets: SecretSet, value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const t = value as Partial<StoredTokens>;
  secrets.remember(t.access_token);
  secrets.remember(t.refresh_token);
}
