/**
 * The doctor's and the exporters' output formats, validated by the formats' own schemas and parser: SARIF 2.1.0
 * (the OASIS schema shipped by @microsoft/jest-sarif, with ajv), HAR 1.2 (har-schema, with ajv), Mermaid (the
 * mermaid package's own parser); and docs/errors.md equal to what the check definitions generate.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCatalog } from '../src/doctor/catalog.ts';
import { checkJson } from '../src/doctor/render/json.ts';
import { renderCheck } from '../src/doctor/render/pretty.ts';
import { toSarif } from '../src/doctor/render/sarif.ts';
import { CHECK_DEFINITIONS, checkDefinition } from '../src/doctor/registry.ts';
import { runDoctor, type DoctorReport } from '../src/doctor/run.ts';
import { toHar } from '../src/export/har.ts';
import { toMermaid } from '../src/export/mermaid.ts';
import { TraceRecorder, toJsonLines, type Trace } from '../src/export/trace.ts';
import { FOREIGN, MCP, doctorLab } from './doctor-lab.ts';
import { fakeLab, runFakeFlow, MCP as FLOW_MCP } from './fake-lab.ts';
import { harValidator, parseMermaid, sarifValidator } from './formats.ts';

let report: DoctorReport;
let doctorTrace: Trace;
let flowTrace: Trace;
let storeDir: string;

beforeAll(async () => {
  const lab = await doctorLab({ defects: ['wrong-resource'] });
  const recorder = new TraceRecorder(MCP);
  report = await runDoctor({
    serverUrl: MCP,
    fetch: lab.net.fetch,
    userAgent: lab.userAgent(),
    foreignResource: FOREIGN,
    observer: recorder.doctor({ check: () => undefined, diagnostic: () => undefined }),
  });
  doctorTrace = recorder.trace();

  storeDir = await mkdtemp(join(tmpdir(), 'mcp-lab-export-'));
  const flowLab = fakeLab();
  const flowRecorder = new TraceRecorder(FLOW_MCP);
  const run = runFakeFlow(flowLab, storeDir, flowLab.userAgent(), { observer: flowRecorder.flow({ step: () => undefined, diagnostic: () => undefined }) });
  await run.promise;
  flowTrace = flowRecorder.trace();
});

afterAll(async () => {
  await rm(storeDir, { recursive: true, force: true });
});

describe('SARIF 2.1.0', () => {
  it('validates against the SARIF 2.1.0 JSON schema', () => {
    const validate = sarifValidator();
    const log = toSarif(report, '0.1.0');
    expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('the schema check is live: a log with a wrong version or a result without message is rejected', () => {
    const validate = sarifValidator();
    const log = toSarif(report, '0.1.0') as { version: string; runs: { results: Record<string, unknown>[] }[] };
    expect(validate({ ...log, version: '2.0.0' })).toBe(false);
    const broken = structuredClone(log);
    delete broken.runs[0]?.results[0]?.message;
    expect(validate(broken)).toBe(false);
  });

  it('one rule per check definition; failures are errors, warnings warnings, the rest kept as pass / notApplicable', () => {
    const log = toSarif(report, '0.1.0') as { runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; level: string; kind: string }[] }[] };
    const run = log.runs[0];
    expect(run?.tool.driver.rules.map((r) => r.id)).toEqual(CHECK_DEFINITIONS.map((d) => d.id));
    expect(run?.results.find((r) => r.ruleId === 'prm-resource-identity')).toMatchObject({ level: 'error', kind: 'fail' });
    expect(run?.results.find((r) => r.ruleId === 'challenge-401')).toMatchObject({ level: 'none', kind: 'pass' });
    expect(run?.results.find((r) => r.ruleId === 'transport-host')).toMatchObject({ level: 'none', kind: 'notApplicable' });
  });
});

describe('HAR 1.2', () => {
  it('the doctor run validates against the HAR schema', () => {
    const validate = harValidator();
    const har = toHar(doctorTrace, '0.1.0');
    expect(validate(har), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const own = doctorTrace.entries.filter((e) => e.type === 'http').length;
    const login = doctorTrace.entries.flatMap((e) => (e.type === 'step' ? e.event.http : [])).length;
    expect(own).toBeGreaterThan(10);
    expect(login).toBeGreaterThan(0);
    expect((har.log as { entries: unknown[] }).entries).toHaveLength(own + login);
  });

  it('a connect run validates too, and carries no credential in the clear', () => {
    const validate = harValidator();
    const har = toHar(flowTrace, '0.1.0');
    expect(validate(har), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const text = JSON.stringify(har);
    expect(text).toContain('"name":"authorization","value":"Bearer access…"');
    expect(text).not.toMatch(/access-token-\d/);
    expect(text).not.toMatch(/code=code-\d/);
  });

  it('the schema check is live: an entry without a request is rejected', () => {
    const validate = harValidator();
    const har = toHar(doctorTrace, '0.1.0') as { log: { entries: Record<string, unknown>[] } };
    const broken = structuredClone(har);
    delete broken.log.entries[0]?.request;
    expect(validate(broken)).toBe(false);
  });
});

describe('Mermaid sequence diagram', () => {
  it('the doctor run parses as a sequence diagram', async () => {
    await expect(parseMermaid(toMermaid(doctorTrace))).resolves.toBe('sequence');
  });

  it('a connect run parses, with the client, RS, AS and browser taking part', async () => {
    const text = toMermaid(flowTrace);
    await expect(parseMermaid(text)).resolves.toBe('sequence');
    expect(text).toMatch(/^ {2}Client->>RS: POST \/mcp$/m);
    expect(text).toMatch(/^ {2}RS-->>Client: 401$/m);
    expect(text).toMatch(/^ {2}Client->>AS: GET \/.well-known\/oauth-authorization-server$/m);
    expect(text).toContain('Browser->>Client: redirect to the loopback redirect_uri');
  });

  it('the diagram in the README (a real run) parses', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /```mermaid\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toMatch(/^sequenceDiagram\n/);
    await expect(parseMermaid(block ?? '')).resolves.toBe('sequence');
  });

  it('the parser check is live: a broken diagram is rejected', async () => {
    await expect(parseMermaid('sequenceDiagram\n  Client->>: nothing\n')).rejects.toThrow(/Parse error/);
  });
});

describe('trace JSON lines', () => {
  it('one JSON object per line: steps, exchanges and check results in run order', () => {
    const lines = toJsonLines(doctorTrace).trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(new Set(lines.map((l) => l.type))).toEqual(new Set(['http', 'check', 'step']));
    expect(lines.filter((l) => l.type === 'check')).toHaveLength(CHECK_DEFINITIONS.length);
  });
});

describe('check definitions and the catalog', () => {
  it('ids are unique and kebab-case; every definition has a spec URL and a one-line fix', () => {
    const ids = CHECK_DEFINITIONS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of CHECK_DEFINITIONS) {
      expect(d.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(d.spec.url).toMatch(/^https:\/\//);
      expect(d.fix).not.toContain('\n');
    }
  });

  it('docs/errors.md is current (regenerate with npm run docs:errors)', () => {
    const committed = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderCatalog());
  });

  it('a failure in the pretty view links its catalog entry; --json carries the link', () => {
    const failed = report.results.find((r) => r.verdict === 'fail');
    if (!failed) throw new Error('expected a failure');
    const def = checkDefinition(failed.id);
    expect(renderCheck(failed, def, { color: false })).toContain(`see: docs/errors.md#${failed.id}`);
    expect(checkJson(failed, def)).toMatchObject({ id: failed.id, verdict: 'fail', help: `docs/errors.md#${failed.id}`, spec: def.spec, fix: def.fix });
  });
});
