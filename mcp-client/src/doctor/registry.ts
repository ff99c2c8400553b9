/**
 * Every check the doctor makes, in run order: the modules (one concern each) and the one list of definitions
 * that the renderers, SARIF rules and the error catalog (docs/errors.md) are made from.
 */
import type { CheckDefinition } from './check.ts';
import { asMetadataModule } from './checks/as-metadata.ts';
import { challengeModule } from './checks/challenge.ts';
import { eraModule } from './checks/era.ts';
import { queryTokenModule } from './checks/query-token.ts';
import { registrationModule } from './checks/registration.ts';
import { resourceMetadataModule } from './checks/resource-metadata.ts';
import { tokensModule } from './checks/tokens.ts';
import { transportModule } from './checks/transport.ts';
import { AUTHORIZATION_RESPONSE_ISS } from './credentials.ts';
import type { CheckModule } from './module.ts';

/** The modules before the login (they need no token). */
export const DISCOVERY_MODULES: readonly CheckModule[] = [challengeModule, resourceMetadataModule, asMetadataModule, registrationModule];

/** The modules after the login (they use the token when there is one). */
export const TOKEN_MODULES: readonly CheckModule[] = [eraModule, transportModule, queryTokenModule, tokensModule];

/** All definitions, in the order results are reported. */
export const CHECK_DEFINITIONS: readonly CheckDefinition[] = [
  ...DISCOVERY_MODULES.flatMap((m) => m.checks),
  AUTHORIZATION_RESPONSE_ISS,
  ...TOKEN_MODULES.flatMap((m) => m.checks),
];

const BY_ID = new Map(CHECK_DEFINITIONS.map((d) => [d.id, d]));

/** The definition of a check id. @throws Error for an unknown id (a renamed check is a bug). */
export function checkDefinition(id: string): CheckDefinition {
  const def = BY_ID.get(id);
  if (!def) throw new Error(`unknown doctor check id ${id}`);
  return def;
}
