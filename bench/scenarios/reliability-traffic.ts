/**
 * The traffic of the reliability scenario (issue 13): B's paced, individually timed requests, and A's abuse —
 * filling its notes store to the quota and holding sessions and SSE streams up to the per-subject caps.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonRpcMessages, openSession, type McpSession } from '../mcp.ts';

export const SCOPE = 'notes:read notes:write';
export const ABUSER = 'bench-abuser';
/** The RS's defaults (mcp-server/src/config.ts LIMIT_SPECS); the scenario runs the RS with them, unchanged. */
export const NOTE_CHARS = 2_000;

/** One part of the scenario's report, and whether its run was valid. */
export interface Part {
  readonly lines: string[];
  readonly valid: boolean;
}

/** B's paced run: its counts and latency quantiles (ms). */
export interface PacedRun {
  readonly title: string;
  readonly responses: number;
  readonly failures: number;
  readonly requestsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Requests at `ratePerS` (one every 1/rate s, each awaited before the next is due) for `durationS`, each timed with
 * performance.now (autocannon's 1 ms histogram cannot tell a 0.4 ms p99 from a 0.9 ms one).
 */
export async function measurePaced(
  title: string,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  ratePerS: number,
  durationS: number,
  validate: (body: string) => boolean,
): Promise<PacedRun> {
  const latencies: number[] = [];
  let failures = 0;
  const intervalMs = 1000 / ratePerS;
  const start = performance.now();
  for (let i = 0; i < ratePerS * durationS; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers, body });
    const text = await res.text();
    latencies.push(performance.now() - t0);
    if (res.status !== 200 || !validate(text)) failures++;
  }
  const sorted = latencies.sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  return {
    title,
    responses: sorted.length,
    failures,
    requestsPerS: sorted.length / ((performance.now() - start) / 1000),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: sorted.at(-1) ?? 0,
  };
}

/** A JSON-RPC error answer refused by the per-subject rate limit. */
export function isRateLimited(body: string): boolean {
  try {
    return (JSON.parse(body) as { error?: { data?: { reason?: string } } }).error?.data?.reason === 'rate_limited';
  } catch {
    return false;
  }
}

/** A notes_list answer: a page (array) of notes, not a tool error. */
export function isNotesPage(body: string): boolean {
  try {
    const [msg] = jsonRpcMessages(body) as Array<{ result?: { isError?: boolean; content?: Array<{ text?: string }> } }>;
    const text = msg?.result?.content?.[0]?.text;
    return msg?.result?.isError !== true && typeof text === 'string' && Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}

async function callTool(mcpUrl: string, session: McpSession, name: string, args: Record<string, unknown>) {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: session.headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
  const [msg] = jsonRpcMessages(await res.text()) as Array<{ result?: { isError?: boolean; content?: Array<{ text: string }> } }>;
  return { status: res.status, isError: msg?.result?.isError === true, text: msg?.result?.content?.[0]?.text ?? '' };
}

/** Adds notes for A until the store refuses one (the quota); returns how many and the refusal's text. */
export async function fillToQuota(mcpUrl: string, a: McpSession): Promise<{ stored: number; refusal: string }> {
  const text = 'n'.repeat(NOTE_CHARS);
  for (let stored = 0; stored < 1_000_000; ) {
    const r = await callTool(mcpUrl, a, 'notes_add', { text });
    // A fills its store as fast as the per-subject rate lets it.
    if (r.status === 429) {
      await sleep(1_000);
      continue;
    }
    if (r.status !== 200) throw new Error(`notes_add answered HTTP ${r.status}`);
    if (r.isError) return { stored, refusal: r.text };
    stored++;
  }
  throw new Error('the notes store never refused a note');
}

/** Opens Streamable HTTP sessions and SSE streams for A until each is refused; keeps them open. */
export async function holdToCap(origin: string, first: McpSession, mcpToken: () => Promise<string>, sseToken: () => Promise<string>) {
  const sessions: McpSession[] = [first];
  let sessionRefusal = 0;
  const token = await mcpToken();
  for (;;) {
    try {
      sessions.push(await openSession(`${origin}/mcp`, token));
    } catch (err) {
      const message = (err as Error).message;
      if (message.includes('rate_limited')) {
        await sleep(1_000);
        continue;
      }
      if (!message.includes('too_many_sessions')) throw err;
      sessionRefusal = Number(/answered (\d+)/.exec(message)?.[1] ?? 0);
      break;
    }
    if (sessions.length > 10_000) throw new Error('no session cap');
  }
  const headers = { authorization: `Bearer ${await sseToken()}`, accept: 'text/event-stream' };
  const controller = new AbortController();
  const streams: Response[] = [];
  let streamRefusal = 0;
  for (;;) {
    const res = await fetch(`${origin}/sse`, { headers, signal: controller.signal });
    if (res.status !== 200) {
      const text = await res.text();
      if (text.includes('rate_limited')) {
        await sleep(1_000);
        continue;
      }
      streamRefusal = text.includes('too_many_sessions') ? res.status : -res.status;
      break;
    }
    streams.push(res);
    if (streams.length > 10_000) throw new Error('no SSE stream cap');
  }
  return {
    sessions: sessions.length,
    sessionRefusal,
    streams: streams.length,
    streamRefusal,
    async close() {
      controller.abort();
      await Promise.all(
        sessions.slice(1).map((s) => fetch(`${origin}/mcp`, { method: 'DELETE', headers: s.headers }).then((r) => r.body?.cancel())),
      );
    },
  };
}
