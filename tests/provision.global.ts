/**
 * The integration project's globalSetup: provisions what the suites need beyond Node, once per run and before any
 * test file is imported, out loud (each tool's first run takes minutes), then hands the results to the test files
 * through vitest's provide/inject (read them with tests/provisioned.ts). Both scripts cache outside the clone
 * (MCP_LAB_CACHE, default ~/.cache/mcp-auth-lab) and answer at once when warm; DEX_BIN / KEYCLOAK_HOME win.
 *
 * A missing prerequisite is not an error here: the suites that need it skip locally with a one-line reason and fail
 * in CI (test-kit/src/prereq.ts).
 */
import type { TestProject } from 'vitest/node';
import { provisionWithProgress, type Provisioned } from '@mcp-lab/launcher';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Dex binary from scripts/ensure-dex.sh. */
    dex: Provisioned;
    /** Keycloak home from scripts/ensure-keycloak.sh. */
    keycloak: Provisioned;
  }
}

export default async function provisionIntegration(project: TestProject): Promise<void> {
  const [dex, keycloak] = await Promise.all([
    provisionWithProgress('ensure-dex.sh', {
      label: 'Dex',
      firstRun:
        'builds Dex from the Go module proxy, 2–3 min and about 1 GB in Go’s caches (`go env GOMODCACHE GOCACHE`); ' +
        'the binary goes to ~/.cache/mcp-auth-lab',
    }),
    provisionWithProgress('ensure-keycloak.sh', {
      label: 'Keycloak',
      firstRun:
        'fetches Keycloak (~170 MB) from Maven Central into ~/.cache/mcp-auth-lab, then starts it once (~75 s) for ' +
        'its one-time build step',
    }),
  ]);
  project.provide('dex', dex);
  project.provide('keycloak', keycloak);
}
