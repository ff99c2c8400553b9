/**
 * The CLI's environment, read once (nothing else reads process.env): where the store lives, and the
 * conformance-suite variables.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ClientEnvConfig {
  /** $MCP_LAB_CLIENT_HOME, else $XDG_CONFIG_HOME/mcp-lab-client, else ~/.config/mcp-lab-client. */
  readonly storeDir: string;
  /** Set when the MCP conformance suite runs the client. */
  readonly conformance: { readonly scenario: string; readonly context: Record<string, unknown> | undefined } | undefined;
  /** Colors on stdout (a TTY and NO_COLOR unset). */
  readonly color: boolean;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: Readonly<Record<string, string | undefined>>, stdoutIsTty: boolean): ClientEnvConfig {
  const problems: string[] = [];
  const storeDir = env.MCP_LAB_CLIENT_HOME || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'mcp-lab-client');
  let conformance: ClientEnvConfig['conformance'];
  if (env.MCP_CONFORMANCE_SCENARIO) {
    let context: Record<string, unknown> | undefined;
    if (env.MCP_CONFORMANCE_CONTEXT) {
      try {
        const parsed: unknown = JSON.parse(env.MCP_CONFORMANCE_CONTEXT);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problems.push('MCP_CONFORMANCE_CONTEXT must be a JSON object');
        else context = parsed as Record<string, unknown>;
      } catch (err) {
        problems.push(`MCP_CONFORMANCE_CONTEXT is not JSON: ${(err as Error).message}`);
      }
    }
    conformance = { scenario: env.MCP_CONFORMANCE_SCENARIO, context };
  }
  if (problems.length) throw new ConfigError(`invalid environment:\n  ${problems.join('\n  ')}`);
  return Object.freeze({ storeDir, conformance, color: stdoutIsTty && !env.NO_COLOR });
}

/**
 * Where V8's compile cache for the CLI lives (module.enableCompileCache): $XDG_CACHE_HOME/mcp-lab-client/compile-cache,
 * else ~/.cache/mcp-lab-client/compile-cache. Read before loadConfig because it must be in place before the
 * command's modules load; a cache is only an optimisation, so it has no error of its own.
 */
export function compileCacheDir(env: Readonly<Record<string, string | undefined>>): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mcp-lab-client', 'compile-cache');
}
