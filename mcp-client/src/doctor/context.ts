/**
 * What every doctor check module gets: a recording fetch that never throws (a network error is evidence too),
 * the facts earlier modules found, and a place for results. Every request goes through the client's own
 * recording fetch (http.ts), so evidence is redacted exactly as the client's step output is.
 */
import type { Challenge, AuthorizationServerMetadata, ProtectedResourceMetadata } from '@mcp-lab/protocol';
import { messageOf } from '../errors.ts';
import { HttpRecorder, type FetchLike } from '../http.ts';
import type { CheckDefinition, CheckResult, Evidence, Verdict } from './check.ts';

/** The answer to one doctor request: the response (undefined on a network error), its body text, the evidence. */
export interface Probe {
  readonly response: Response | undefined;
  readonly status: number | undefined;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
  readonly error: string | undefined;
  readonly evidence: Evidence;
}

/** An access token the doctor may present, and where it came from. */
export interface DoctorToken {
  readonly accessToken: string;
  readonly source: 'option' | 'login';
}

/** What the modules learn, in run order; each module reads what the earlier ones set. */
export interface Facts {
  /** The unauthenticated probe: its status, the raw header and its parsed Bearer challenge. */
  probe?: { status: number | undefined; header: string | null; challenge: Challenge | undefined; grammarOk: boolean; authRequired: boolean };
  prm?: { metadata: ProtectedResourceMetadata; url: string; issuer: string | undefined };
  as?: { metadata: AuthorizationServerMetadata; url: string; issuer: string };
  token?: DoctorToken;
  /** Why there is no token (not-applicable reasons). */
  noTokenReason?: string;
  /** A token the AS issued for another audience (embedded IdP: `--foreign-resource`). */
  foreignToken?: string;
  noForeignTokenReason?: string;
  /** An access token that has expired (`--expired-token`). */
  expiredToken?: string;
  /** The MCP request that a valid token gets answered (from the era check), for the token checks. */
  mcpRequest?: { body: unknown; headers: Record<string, string> };
}

import type { ProtocolEra } from '../steps/era.ts';

/** The era the person asked the doctor to require (`--protocol-era`, the client's own vocabulary): `modern` is
 * 2026-07-28 (server/discover), `legacy` 2025 (initialize), `auto` either. */
export type { ProtocolEra };

/** Sends a request with a chosen Host header (fetch cannot set Host); returns a real Response. */
export type HostProbe = (url: string, host: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<Response>;

export interface DoctorSettings {
  readonly protocolEra: ProtocolEra;
  readonly hostProbe: HostProbe;
}

export interface DoctorContext {
  readonly serverUrl: string;
  readonly settings: DoctorSettings;
  readonly facts: Facts;
  /** Sends one request; never throws. */
  send(purpose: string, url: string, init?: RequestInit): Promise<Probe>;
  /** Records an exchange made outside `send` (the Host probe) for the trace. */
  recordExchange(evidence: Evidence): void;
  /** Records the verdict of a check. */
  report(def: CheckDefinition, verdict: Verdict, summary: string, evidence?: readonly Evidence[]): void;
  readonly results: readonly CheckResult[];
  /** A line for the person at the terminal (stderr). */
  diagnostic(message: string, level?: 'info' | 'warn'): void;
}

const BODY_LIMIT_BYTES = 64 * 1024;
const BODY_READ_MS = 5_000;
const EXCERPT_CHARS = 400;
const SECRET_MEMBERS = /("(?:access_token|refresh_token|id_token|client_secret|registration_access_token|code)"\s*:\s*")([^"]{0,6})[^"]*(")/g;
const JWT_LIKE = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

/** A body excerpt with credentials masked: JSON secret members and anything shaped like a JWT (after the
 * recorder's own scrubbing of every credential it saw on the wire). */
export function maskBody(text: string): string {
  const masked = text.replace(SECRET_MEMBERS, '$1$2…$3').replace(JWT_LIKE, (m) => `${m.slice(0, 6)}…`);
  return masked.length > EXCERPT_CHARS ? `${masked.slice(0, EXCERPT_CHARS)}…` : masked;
}

/** Reads at most BODY_LIMIT_BYTES within BODY_READ_MS (an SSE answer may never end), then cancels. */
async function readBody(response: Response): Promise<string> {
  const body = response.body;
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const deadline = Date.now() + BODY_READ_MS;
  try {
    while (size < BODY_LIMIT_BYTES) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), left);
      });
      const next = await Promise.race([reader.read(), timeout]);
      clearTimeout(timer);
      if (next === 'timeout' || next.done) break;
      chunks.push(next.value);
      size += next.value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON, or the data of the first SSE `message` event holding JSON (Streamable HTTP may answer either way). */
function parseBody(text: string, contentType: string | null): unknown {
  const trimmed = text.trim();
  if (contentType?.includes('text/event-stream')) {
    for (const line of trimmed.split('\n')) {
      if (!line.startsWith('data:')) continue;
      try {
        return JSON.parse(line.slice(5).trim());
      } catch {
        // not JSON: try the next data line
      }
    }
    return undefined;
  }
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

export function createDoctorContext(
  serverUrl: string,
  settings: DoctorSettings,
  fetch: FetchLike,
  onResult: (result: CheckResult) => void,
  onDiagnostic: (message: string, level: 'info' | 'warn') => void,
  onExchange: (evidence: Evidence) => void,
): DoctorContext {
  const results: CheckResult[] = [];
  const recorder = new HttpRecorder();
  const recording = recorder.wrap(fetch);
  return {
    serverUrl,
    settings,
    facts: {},
    results,
    async send(purpose, url, init = {}) {
      recorder.take();
      let response: Response | undefined;
      let error: string | undefined;
      let text = '';
      try {
        response = await recording(url, { redirect: 'manual', ...init });
        text = await readBody(response);
      } catch (cause) {
        error = messageOf(cause);
      }
      const [record] = recorder.take();
      const evidence: Evidence = record
        ? { ...record, purpose, ...(text ? { body: maskBody(recorder.secrets.scrub(text)) } : {}) }
        : { method: init.method ?? 'GET', url, status: 0, headers: {}, purpose, ...(error ? { body: `network error: ${error}` } : {}) };
      onExchange(evidence);
      return {
        response,
        status: response?.status,
        text,
        json: response ? parseBody(text, response.headers.get('content-type')) : undefined,
        error,
        evidence,
      };
    },
    recordExchange(evidence) {
      onExchange(evidence);
    },
    report(def, verdict, summary, evidence = []) {
      const result: CheckResult = { id: def.id, verdict, summary, evidence: [...evidence] };
      results.push(result);
      onResult(result);
    },
    diagnostic(message, level = 'info') {
      onDiagnostic(message, level);
    },
  };
}

/** "HTTP 401" or the network error, for summaries. */
export function describeProbe(p: Probe): string {
  return p.status === undefined ? `network error: ${p.error ?? 'unknown'}` : `HTTP ${p.status}`;
}
