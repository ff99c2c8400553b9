/**
 * The step events the orchestrator emits. Renderers (pretty, JSON lines) read only these; they are the whole
 * contract between the flow and the terminal.
 */

export type StepName =
  | 'probe'
  | 'resource-metadata'
  | 'as-metadata'
  /** Deprecated 2025-03-26 discovery, only for servers without any Protected Resource Metadata. */
  | 'legacy-discovery'
  | 'registration'
  | 'stored-token'
  | 'refresh'
  | 'authorize'
  | 'callback'
  | 'token'
  | 'session'
  /** 2026-07-28 era negotiation (server/discover, or the fallback to initialize). */
  | 'era'
  | 'initialize'
  | 'tools-list'
  | 'tools-call'
  | 'step-up'
  | 'logout';

/** One HTTP exchange as shown to the user: selected headers only, credentials redacted. */
export interface HttpRecord {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** When the request was sent (ISO 8601) and how long until the response head arrived; for trace exports. */
  readonly startedAt?: string;
  readonly ms?: number;
}

/** One protocol check the client made, passed or not. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface StepEvent {
  readonly step: StepName;
  readonly status: 'ok' | 'fail';
  readonly http: readonly HttpRecord[];
  readonly checks: readonly Check[];
  readonly ms: number;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A free-text line for the person at the terminal (browser prompt, hints); rendered on stderr. */
export interface Diagnostic {
  readonly level: 'info' | 'warn';
  readonly message: string;
}

export interface FlowObserver {
  step(event: StepEvent): void;
  diagnostic(d: Diagnostic): void;
}
