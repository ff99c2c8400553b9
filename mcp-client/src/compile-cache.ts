/**
 * V8's compile cache for the CLI's JavaScript modules (module.enableCompileCache, Node >= 22.1): start-up is most
 * of a CLI run, and the cache keeps the compiled code of the SDK, zod, ajv and oauth4webapi between runs.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { constants, enableCompileCache } from 'node:module';
import { dirname } from 'node:path';

/**
 * Enables the compile cache in `dir`. A cache is only an optimisation: when the directory cannot be made, the
 * CLI runs without one and says nothing. The directory is made here, one level at a time, because Node's own
 * recursive mkdir (used by enableCompileCache and by mkdirSync with `recursive`) never returns for some
 * impossible paths (e.g. under /proc; Node 22.23).
 * @returns the cache status (`enabled`, `already enabled`, `disabled` or `failed`), or `unavailable`.
 */
export function enableCliCompileCache(dir: string): string {
  if (!makeDirs(dir)) return 'unavailable';
  const { status, message } = enableCompileCache(dir);
  const name = Object.entries(constants.compileCacheStatus).find(([, v]) => v === status)?.[0] ?? String(status);
  return `${name.toLowerCase().replace('_', ' ')}${message ? `: ${message}` : ''}`;
}

function makeDirs(dir: string): boolean {
  if (existsSync(dir)) return true;
  const parent = dirname(dir);
  if (parent === dir || !makeDirs(parent)) return false;
  try {
    mkdirSync(dir, { mode: 0o700 });
    return true;
  } catch (err) {
    // Made meanwhile by another run: fine. Anything else (read-only, not a directory, no such file system): no cache.
    return (err as NodeJS.ErrnoException).code === 'EEXIST';
  }
}
