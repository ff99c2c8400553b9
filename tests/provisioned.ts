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

/** The IdP profiles the cross-profile suites (idp-matrix, doctor-lab) run the launcher's lab on. */
export const LAB_PROFILES = ['embedded', 'dex', 'keycloak'] as const;
export type LabProfileName = (typeof LAB_PROFILES)[number];

export interface ProvisionedLabs {
  /** Which profiles can start on this machine. */
  readonly ready: Readonly<Record<LabProfileName, boolean>>;
  /** The ready profiles, in {@link LAB_PROFILES} order. */
  readonly profiles: readonly LabProfileName[];
  /** What `startLab` takes from provisioning, spread into its options. */
  readonly paths: { readonly dexBin?: string; readonly keycloakHome?: string };
  /** A cold JVM (Keycloak) answers its first JWKS request slowly on a busy 2-core machine; the RS default is 5 s. */
  readonly rsEnv: Readonly<Record<string, string>>;
}

/** The provisioned IdPs as the launcher's `startLab` wants them (call once, at module level). */
export function provisionedLabs(): ProvisionedLabs {
  const dexBin = requireDex();
  const keycloakHome = requireKeycloak();
  const ready: Record<LabProfileName, boolean> = { embedded: true, dex: dexBin !== undefined, keycloak: keycloakHome !== undefined };
  return {
    ready,
    profiles: LAB_PROFILES.filter((n) => ready[n]),
    paths: { ...(dexBin === undefined ? {} : { dexBin }), ...(keycloakHome === undefined ? {} : { keycloakHome }) },
    rsEnv: { MCP_JWKS_TIMEOUT_MS: '20000' },
  };
}
