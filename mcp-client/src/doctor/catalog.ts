/**
 * The error catalog (docs/errors.md), generated from the check definitions so that it cannot drift from them:
 * each id with what it checks, what a failure means, the spec section and the fix. The CLI's doctor messages
 * link to `docs/errors.md#<id>`; a test keeps the committed file equal to this output.
 */
import type { Concern } from './check.ts';
import { CHECK_DEFINITIONS } from './registry.ts';

const CONCERNS: Record<Concern, string> = {
  challenge: 'The 401 challenge',
  'resource-metadata': 'Protected Resource Metadata',
  transport: 'Transport security',
  era: 'Protocol era',
  'authorization-server': 'Authorization server',
  registration: 'Client registration',
  token: 'Token validation at the resource server',
};

/** The Markdown of docs/errors.md. */
export function renderCatalog(): string {
  const out = [
    '# `mcp-lab-client doctor`: check catalog',
    '',
    '<!-- Generated from mcp-client/src/doctor (the check definitions) by `npm run docs:errors`; do not edit by hand. -->',
    '',
    'Each check has a stable id, a verdict (`pass`, `fail`, `warn`, `not-applicable`), the spec section it rests on and',
    'a one-line fix. `fail`: the server breaks a MUST or opens a hole; `warn`: a SHOULD is not met; `not-applicable`:',
    'the check could not be made here (the result says why, e.g. no credentials). `doctor` exits 0 only when no check fails.',
    '',
    '| Id | Checks | Needs a token |',
    '| --- | --- | --- |',
    ...CHECK_DEFINITIONS.map((d) => `| [\`${d.id}\`](#${d.id}) | ${d.title} | ${d.needsCredentials ? 'yes' : 'no'} |`),
    '',
  ];
  let concern: Concern | undefined;
  for (const d of CHECK_DEFINITIONS) {
    if (d.concern !== concern) {
      concern = d.concern;
      out.push(`## ${CONCERNS[concern]}`, '');
    }
    out.push(
      `### ${d.id}`,
      '',
      `**${d.title}.** ${d.meaning}`,
      '',
      `- Spec: [${d.spec.section}](${d.spec.url})`,
      `- Fix: ${d.fix}`,
      `- Needs a token (\`--login\` or \`--token\`): ${d.needsCredentials ? 'yes' : 'no'}`,
      '',
    );
  }
  return out.join('\n');
}
