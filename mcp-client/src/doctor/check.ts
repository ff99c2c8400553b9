/**
 * The shape of a doctor check: a stable id, what it means, the spec section it rests on and a one-line fix
 * (the definition, from which docs/errors.md is generated), and what one run found (the result).
 */
import type { HttpRecord } from '../events.ts';

/** pass: the server does what the spec asks; fail: it does not (a MUST, or a security hole); warn: a SHOULD is
 * not met; not-applicable: the check cannot be made here (the reason says why). */
export type Verdict = 'pass' | 'fail' | 'warn' | 'not-applicable';

export const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'warn', 'not-applicable'];

/** What the check is about, for grouping in the pretty view and the catalog. */
export type Concern = 'challenge' | 'resource-metadata' | 'transport' | 'era' | 'authorization-server' | 'registration' | 'token';

export interface SpecReference {
  /** e.g. "RFC 9728 §3.3" or "MCP 2026-07-28 Authorization: Protected Resource Metadata Discovery". */
  readonly section: string;
  readonly url: string;
}

export interface CheckDefinition {
  /** Stable, kebab-case; never renamed (CI systems key findings on it). */
  readonly id: string;
  readonly concern: Concern;
  /** One line: what the server must do. */
  readonly title: string;
  /** What a failure means and why it matters. */
  readonly meaning: string;
  readonly spec: SpecReference;
  /** One line: how the server's author fixes a failure. */
  readonly fix: string;
  /** Whether the check needs an access token (--login or --token) to say more than not-applicable. */
  readonly needsCredentials: boolean;
}

/** One HTTP exchange shown as evidence: the client's redacted record, plus a redacted excerpt of the body. */
export interface Evidence extends HttpRecord {
  /** What the doctor sent this request for. */
  readonly purpose: string;
  /** A few hundred characters of the response body, credentials masked. */
  readonly body?: string;
}

export interface CheckResult {
  readonly id: string;
  readonly verdict: Verdict;
  /** One line: what was found. For not-applicable, the reason. */
  readonly summary: string;
  readonly evidence: readonly Evidence[];
}

/** Where the catalog entry of a check lives, relative to the repository root (CLI messages print it). */
export function catalogLink(id: string): string {
  return `docs/errors.md#${id}`;
}
