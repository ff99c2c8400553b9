/**
 * The proxy's own view of the replicas: HAProxy's stats page (docker/scale/haproxy.cfg, on when MCP_LAB_PROXY_STATS
 * names an address), `GET /stats;csv`. Which servers are in, what they answered, what the proxy re-sent.
 */
import type { RunningProcess } from '@mcp-lab/test-kit/processes';

/** One server of the proxy's backend as its stats page shows it. */
export interface ProxyServer {
  /** rs1, rs2, rs3: the config's server names (rs<i+1> is the i-th replica). */
  readonly name: string;
  /** `UP`, `DOWN`, or a transition (`UP 1/2`: failing, not out yet). */
  readonly status: string;
  /** Responses with a 5xx status this server gave. */
  readonly responses5xx: number;
  /** Requests the proxy re-sent after a failure on this server (`retry-on`), and those it sent elsewhere. */
  readonly retries: number;
  readonly redispatches: number;
}

/** The lab's proxy on the host, with its health view. */
export interface Proxy {
  readonly url: string;
  readonly process: RunningProcess;
  /** The backend's servers, from the stats page. */
  servers(): Promise<ProxyServer[]>;
  /** Resolves once the proxy shows server `name` in a status `accept` accepts (polled every 50 ms). */
  waitFor(name: string, accept: (status: string) => boolean, timeoutMs?: number): Promise<void>;
}

/** The backend's server rows of HAProxy's CSV stats. */
export function parseProxyStats(csv: string): ProxyServer[] {
  const [head = '', ...rows] = csv.trim().split('\n');
  const columns = head.replace(/^# /, '').split(',');
  const col = (cells: string[], name: string) => cells[columns.indexOf(name)] ?? '';
  return rows
    .map((row) => row.split(','))
    .filter((cells) => col(cells, 'pxname') === 'replicas' && !['FRONTEND', 'BACKEND'].includes(col(cells, 'svname')))
    .map((cells) => ({
      name: col(cells, 'svname'),
      status: col(cells, 'status'),
      responses5xx: Number(col(cells, 'hrsp_5xx') || 0),
      retries: Number(col(cells, 'wretr') || 0),
      redispatches: Number(col(cells, 'wredis') || 0),
    }));
}

/** Polls `servers` until server `name`'s status satisfies `accept`; rejects after `timeoutMs` naming the last one. */
export async function waitForServer(
  servers: () => Promise<ProxyServer[]>,
  name: string,
  accept: (status: string) => boolean,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await servers()).find((s) => s.name === name)?.status ?? 'absent';
    if (accept(last)) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`the proxy still shows ${name} as ${last} after ${timeoutMs} ms`);
}

/** What each server's counters grew by between two readings: 5xx answers, retries, redispatches. */
export function proxyDelta(before: readonly ProxyServer[], after: readonly ProxyServer[]) {
  return after.map((s, i) => ({
    name: s.name,
    responses5xx: s.responses5xx - (before[i]?.responses5xx ?? 0),
    retries: s.retries - (before[i]?.retries ?? 0),
    redispatches: s.redispatches - (before[i]?.redispatches ?? 0),
  }));
}
