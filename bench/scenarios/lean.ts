import { buildApp } from '../../mcp-server/src/app.ts';
import { loadConfig } from '../../mcp-server/src/config.ts';
import type { BenchConfig } from '../config.ts';
import { startBenchIssuer } from '../jwt.ts';
import { isWhoamiResult, MODERN_HEADERS, MODERN_TOOLS_CALL_BODY, openSessionInProcess, STREAMABLE_ACCEPT, TOOLS_CALL_BODY, BENCH_SUBJECT } from '../mcp.ts';
import type { Log } from '../report.ts';
import { renderTable } from '../report.ts';

/**
 * Scenario 4: the lean tools/call path on its own against the SDK path it stands in for, in one process with
 * `app.inject` (no sockets, no load generator: only the RS's own work differs). The same authenticated
 * `tools/call whoami`, four ways: 2026-07-28 lean, 2026-07-28 through the v2 SDK (`createMcpHandler`), 2025 session
 * lean, 2025 session through the v1 SDK transport. The SDK path is forced by a request the lean path declines but
 * the SDK answers alike: the Base64 form of `Mcp-Name` (modern), an empty `_meta` (2025).
 */
export async function runLean(config: BenchConfig, log: Log): Promise<{ report: string; valid: boolean }> {
  const issuer = await startBenchIssuer();
  const publicUrl = 'http://127.0.0.1:3999';
  const app = await buildApp(loadConfig({ MCP_ISSUER: issuer.issuer, MCP_PUBLIC_URL: publicUrl, MCP_LOG_LEVEL: 'silent' }));
  try {
    const token = await issuer.mint({ audience: `${publicUrl}/mcp`, scope: 'notes:read notes:write', subject: BENCH_SUBJECT });
    const base = { authorization: `Bearer ${token}`, accept: STREAMABLE_ACCEPT, 'content-type': 'application/json' };
    const session = await openSessionInProcess(app, base);
    const legacySdkBody = JSON.stringify({ ...JSON.parse(TOOLS_CALL_BODY), params: { name: 'whoami', arguments: {}, _meta: {} } });
    const ways = [
      { name: 'baseline: GET resource metadata (inject overhead)', method: 'GET' as const, url: '/.well-known/oauth-protected-resource/mcp', headers: {}, body: undefined },
      { name: '2026-07-28 lean', headers: { ...base, ...MODERN_HEADERS }, body: MODERN_TOOLS_CALL_BODY },
      {
        name: '2026-07-28 v2 SDK (createMcpHandler)',
        headers: { ...base, ...MODERN_HEADERS, 'mcp-name': `=?base64?${Buffer.from('whoami').toString('base64')}?=` },
        body: MODERN_TOOLS_CALL_BODY,
      },
      { name: '2025 session lean', headers: { ...base, ...session }, body: TOOLS_CALL_BODY },
      { name: '2025 session v1 SDK transport', headers: { ...base, ...session }, body: legacySdkBody },
    ];
    const n = Math.max(200, config.leanCalls);
    const rows: string[][] = [['path', 'calls', 'CPU µs/call (median of 5)', 'wall µs/call', 'valid']];
    let valid = true;
    for (const way of ways) {
      const inject = () =>
        'method' in way
          ? app.inject({ method: way.method, url: way.url, headers: way.headers })
          : app.inject({ method: 'POST', url: '/mcp', headers: way.headers, payload: way.body });
      const first = await inject();
      const ok = first.statusCode === 200 && ('method' in way || isWhoamiResult(first.body));
      valid &&= ok;
      for (let i = 0; i < 200; i++) await inject(); // warm-up (JIT, token cache)
      // CPU time of this process per call: the sturdier number on a busy machine (wall time shown beside it).
      const cpu: number[] = [];
      const wall: number[] = [];
      for (let s = 0; s < 5; s++) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        for (let i = 0; i < n; i++) await inject();
        const c = process.cpuUsage(c0);
        wall.push(((performance.now() - t0) * 1000) / n);
        cpu.push((c.user + c.system) / n);
      }
      cpu.sort((x, y) => x - y);
      wall.sort((x, y) => x - y);
      const median = (xs: number[]) => (xs[2] ?? 0).toFixed(1);
      rows.push([way.name, String(n * 5), median(cpu), median(wall), ok ? 'valid' : `INVALID: HTTP ${first.statusCode} ${first.body.slice(0, 120)}`]);
      log(`${way.name}: ${median(cpu)} CPU µs/call, ${median(wall)} µs wall`);
    }
    const header = 'tools/call whoami in-process (app.inject, token cached, one session for 2025); the SDK path forced as described in bench/scenarios/lean.ts.';
    return { report: [header, '', renderTable(rows)].join('\n'), valid };
  } finally {
    await app.close();
    await issuer.close();
  }
}
