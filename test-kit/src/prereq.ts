/**
 * Prerequisites of suites that need something beyond Node (Dex, Docker, Keycloak, Chromium).
 * Locally a missing one skips the suite with a one-line reason; in CI (CI set) it fails loudly, so that
 * nothing is skipped unnoticed there.
 */
export function inCi(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/**
 * Returns true when the suite may run. When `available` is false: throws in CI, otherwise prints the reason once
 * and returns false (use with `describe.skipIf(!ok)` or `describe.runIf(ok)`).
 */
export function requirePrereq(name: string, available: boolean, reason: string): boolean {
  if (available) return true;
  const line = `${name} unavailable: ${reason}`;
  if (inCi()) throw new Error(`${line} (CI runs every suite; install it with the project's scripts)`);
  process.stderr.write(`skipping ${name} suite locally: ${reason}\n`);
  return false;
}
