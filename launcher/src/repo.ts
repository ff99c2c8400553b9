/** Paths in the repository the launcher starts things from (services' main.ts, profiles/, scripts/, IdP configs). */
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../../', import.meta.url);

/** The absolute path of `relative` (e.g. `mcp-server/src/main.ts`) in the repository. */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(relative, ROOT));
}
