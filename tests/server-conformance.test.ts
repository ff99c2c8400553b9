/**
 * The official `conformance server` suite (@modelcontextprotocol/conformance 0.2.0-alpha.12, the root devDependency
 * alias `conformance-next`) against the RS in the lab's conformance mode (`npm start -- --conformance`): the real
 * embedded IdP, the real RS (authenticating every request), and the loopback proxy that adds a real token. Run at
 * both frozen requirement levels, 2026-07-28 (stateless) and 2025-11-25 (initialize + sessions).
 *
 * Every scored scenario about tools, discovery, headers and errors must pass, and those about resources that the
 * lab's one resource (each caller's notes) answers: listing, the not-found error, cache hints. The scenarios that
 * need features the lab does not have (the suite's fixture resources and templates, prompts, completions,
 * sampling/elicitation, multi-round-trip input) run too and are listed in the README; they are not asserted here.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureSink, loadProfile, startConformanceLab, type ConformanceLab } from '@mcp-lab/launcher';
import { CONFORMANCE_CLI, runConformance } from '@mcp-lab/test-kit/conformance';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUITE_CLI = CONFORMANCE_CLI.next;

/** Scenarios about tools, discovery, headers, errors and the resources the lab has: each must pass in full. */
const MUST_PASS: Readonly<Record<'2026-07-28' | '2025-11-25', readonly string[]>> = {
  '2026-07-28': [
    'server-stateless',
    'tools-list',
    'tools-call-simple-text',
    'tools-call-image',
    'tools-call-audio',
    'tools-call-embedded-resource',
    'tools-call-mixed-content',
    'tools-call-error',
    'tools-call-with-progress',
    'server-sse-multiple-streams',
    'dns-rebinding-protection',
    'http-header-validation',
    'resources-list',
    'sep-2164-resource-not-found',
  ],
  '2025-11-25': [
    'server-initialize',
    'ping',
    'logging-set-level',
    'tools-list',
    'tools-call-simple-text',
    'tools-call-image',
    'tools-call-audio',
    'tools-call-embedded-resource',
    'tools-call-mixed-content',
    'tools-call-with-logging',
    'tools-call-error',
    'tools-call-with-progress',
    'server-sse-multiple-streams',
    'dns-rebinding-protection',
    'server-session-lifecycle',
    'resources-list',
  ],
};

/** Of the caching scenario (which also asks for prompts), the checks about what the lab serves. */
const CACHING_CHECKS = [
  'sep-2549-tools-list-caching-hints',
  'sep-2549-resources-list-caching-hints',
  'sep-2549-resources-templates-list-caching-hints',
  'sep-2549-resources-read-caching-hints',
  'sep-2549-ttl-non-negative',
  'sep-2549-cache-scope-valid',
];

interface Check {
  readonly id: string;
  readonly status: string;
  readonly errorMessage?: string;
}

let lab: ConformanceLab;
let sink: ReturnType<typeof captureSink>;
let outDir: string;

beforeAll(async () => {
  sink = captureSink();
  lab = await startConformanceLab(loadProfile('embedded'), { log: sink.stream });
  outDir = await mkdtemp(join(tmpdir(), 'mcp-lab-server-conformance-'));
}, 60_000);
afterAll(async () => {
  await lab?.stop();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

function runSuite(requirements: string, dir: string): Promise<{ code: number | null; output: string }> {
  return runConformance(SUITE_CLI, ['server', '--url', `${lab.frontUrl}/mcp`, '--requirements', requirements, '-o', dir], ROOT);
}

/** Every scenario's checks, from the suite's result directories (`server-<scenario>-<timestamp>/checks.json`). */
async function results(dir: string): Promise<Map<string, Check[]>> {
  const byScenario = new Map<string, Check[]>();
  for (const entry of await readdir(dir)) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    if (!m?.[1]) continue;
    byScenario.set(m[1], JSON.parse(await readFile(join(dir, entry, 'checks.json'), 'utf8')) as Check[]);
  }
  return byScenario;
}

function failures(checks: readonly Check[] | undefined): string[] {
  return (checks ?? []).filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage ?? ''}`);
}

describe.each(['2026-07-28', '2025-11-25'] as const)('conformance server --requirements %s', (requirements) => {
  let byScenario: Map<string, Check[]>;
  let output: string;

  beforeAll(async () => {
    const dir = join(outDir, requirements);
    const run = await runSuite(requirements, dir);
    output = run.output;
    byScenario = await results(dir);
  }, 300_000);

  it.each(MUST_PASS[requirements])('%s passes', (scenario) => {
    const checks = byScenario.get(scenario);
    expect(checks, `${scenario} did not run:\n${output.slice(-3000)}`).toBeDefined();
    expect(checks!.length).toBeGreaterThan(0);
    expect(failures(checks), `${scenario}\n${sink.text().slice(-2000)}`).toEqual([]);
  });

  if (requirements === '2026-07-28') {
    it('caching: tools/list and the resource results carry valid ttlMs and cacheScope', () => {
      const checks = byScenario.get('caching') ?? [];
      for (const id of CACHING_CHECKS) expect(checks.find((c) => c.id === id)?.status, id).toBe('SUCCESS');
    });
  }
});

describe('the conformance front is not an authentication switch', () => {
  it('the RS behind it still answers 401 to a request without a token', async () => {
    const res = await fetch(`${lab.rsUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata=|^Bearer scope=/);
  });
});
