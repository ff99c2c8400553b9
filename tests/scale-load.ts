/**
 * Load for the scale-out suites: 2026-07-28 stateless whoami calls through a proxy while replicas go away, counting
 * what failed (after the client retries it was allowed, if any).
 */

import { modernRequest } from '@mcp-lab/test-kit/mcp-messages';

const WHOAMI = modernRequest('tools/call', { name: 'whoami', arguments: {} }, 1);
const WHOAMI_BODY = JSON.stringify(WHOAMI.payload);

/** The `sub` of a whoami tools/call answered as JSON, or undefined for any other answer. */
function whoamiOf(body: string): string | undefined {
  try {
    const message = JSON.parse(body) as { result?: { isError?: boolean; content?: Array<{ text?: string }> } };
    if (message.result?.isError) return undefined;
    return (JSON.parse(message.result?.content?.[0]?.text ?? 'null') as { sub?: string } | null)?.sub;
  } catch {
    return undefined; // not JSON: not the answer
  }
}

export interface LoadOptions {
  /** The subject every answer must name. */
  readonly sub: string;
  /** Loops sending one request after the other. */
  readonly workers: number;
  /** How often a failed request is sent again, 200 ms apart, as a client retries one whose connection broke; 0: never. */
  readonly retries: number;
  /** Pause between two requests of one loop (default none), to stay under the per-user rate limit. */
  readonly pauseMs?: number;
}

export interface LoadResult {
  readonly sent: number;
  /** Retries made (each counts once). */
  readonly retried: number;
  /** What still failed after its retries, one line each. */
  readonly failures: readonly string[];
}

/**
 * Modern-era (2026-07-28, stateless) whoami calls by `token`'s user to `url` (a proxy: round-robin over the
 * replicas) until `until` settles. A request succeeds when it is answered 200 with a whoami result naming `sub`.
 */
export async function sessionLessLoad(url: string, token: string, until: Promise<void>, options: LoadOptions): Promise<LoadResult> {
  let done = false;
  const stop = () => {
    done = true;
  };
  until.then(stop, stop);
  let sent = 0;
  let retried = 0;
  const failures: string[] = [];
  const once = async (): Promise<string | undefined> => {
    try {
      const res = await fetch(`${url}/mcp`, { method: 'POST', headers: { ...WHOAMI.headers, authorization: `Bearer ${token}` }, body: WHOAMI_BODY });
      const body = await res.text();
      return res.status === 200 && whoamiOf(body) === options.sub ? undefined : `HTTP ${res.status} ${body.slice(0, 160)}`;
    } catch (err) {
      return (err as Error).message;
    }
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await Promise.all(
    Array.from({ length: options.workers }, async () => {
      while (!done) {
        sent++;
        const first = await once();
        let last: string | undefined = first;
        for (let attempt = 0; attempt < options.retries && last !== undefined; attempt++) {
          retried++;
          await pause(200);
          last = await once();
        }
        if (last !== undefined) failures.push(options.retries > 0 ? `${first} / after retries: ${last}` : last);
        if (options.pauseMs) await pause(options.pauseMs);
      }
    }),
  );
  return { sent, retried, failures };
}
