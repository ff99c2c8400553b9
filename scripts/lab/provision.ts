/** Runs one of the project's provisioning scripts (scripts/ensure-*.sh), which print one path on success. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPTS = fileURLToPath(new URL('../', import.meta.url));

export type Provisioned = { readonly available: true; readonly path: string } | { readonly available: false; readonly reason: string };

/**
 * Runs `scripts/<script>` (it may download or build once, hence the long timeout) and returns the path it printed,
 * or why it could not; never throws, so callers can decide between skipping and failing.
 */
export function provision(script: string): Provisioned {
  try {
    const path = execFileSync('bash', [join(SCRIPTS, script)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 900_000,
    }).trim();
    return { available: true, path };
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    return { available: false, reason: stderr || (err as Error).message };
  }
}
