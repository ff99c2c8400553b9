/**
 * What tests/provision.global.ts provisioned for this run, for integration test files: a Dex binary, a Keycloak home.
 * Each accessor applies the prerequisite rule (test-kit/src/prereq.ts): undefined locally when missing (the suite
 * skips with a one-line reason), an error in CI.
 */
import { inject } from 'vitest';
import { requirePrereq } from '@mcp-lab/test-kit/prereq';

function required(name: 'Dex' | 'Keycloak', key: 'dex' | 'keycloak'): string | undefined {
  const p = inject(key);
  if (p === undefined) throw new Error(`tests/provision.global.ts did not run: run this file in the integration project`);
  return requirePrereq(name, p.available, p.available ? '' : p.reason) && p.available ? p.path : undefined;
}

/** The Dex binary (scripts/ensure-dex.sh), or undefined when the Dex suites skip. */
export const requireDex = (): string | undefined => required('Dex', 'dex');

/** The Keycloak home (scripts/ensure-keycloak.sh), or undefined when the Keycloak suites skip. */
export const requireKeycloak = (): string | undefined => required('Keycloak', 'keycloak');
