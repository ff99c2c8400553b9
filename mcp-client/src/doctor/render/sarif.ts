/**
 * SARIF 2.1.0 (OASIS) for CI systems: one rule per check definition, one result per check. A failure is an
 * `error`, a warning a `warning`; passes and not-applicable checks are kept with kind `pass` / `notApplicable`,
 * so a CI system can show that a check ran.
 */
import { catalogLink, type CheckDefinition } from '../check.ts';
import { CHECK_DEFINITIONS } from '../registry.ts';
import type { DoctorReport } from '../run.ts';


function ruleName(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
}

function rule(def: CheckDefinition) {
  return {
    id: def.id,
    name: ruleName(def.id),
    shortDescription: { text: def.title },
    fullDescription: { text: def.meaning },
    help: { text: `${def.fix} (${def.spec.section}: ${def.spec.url})`, markdown: `${def.fix}\n\nSpec: [${def.spec.section}](${def.spec.url}). Catalog: \`${catalogLink(def.id)}\`.` },
    helpUri: def.spec.url,
    defaultConfiguration: { level: 'error' as const },
    properties: { tags: ['mcp', 'oauth', def.concern], needsCredentials: def.needsCredentials },
  };
}

/** The SARIF log of a doctor run (a plain object; JSON.stringify it). */
export function toSarif(report: DoctorReport, toolVersion: string): Record<string, unknown> {
  const index = new Map(CHECK_DEFINITIONS.map((d, i) => [d.id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'mcp-lab-client doctor', version: toolVersion, rules: CHECK_DEFINITIONS.map(rule) } },
        invocations: [{ executionSuccessful: true }],
        results: report.results.map((r) => {
          const uri = r.evidence[0]?.url ?? report.serverUrl;
          return {
            ruleId: r.id,
            ruleIndex: index.get(r.id),
            kind: r.verdict === 'pass' ? 'pass' : r.verdict === 'not-applicable' ? 'notApplicable' : 'fail',
            level: r.verdict === 'fail' ? 'error' : r.verdict === 'warn' ? 'warning' : 'none',
            message: { text: r.summary },
            locations: [{ physicalLocation: { artifactLocation: { uri } } }],
            properties: { verdict: r.verdict, evidence: r.evidence },
          };
        }),
      },
    ],
  };
}
