/**
 * The CLI's environment, read once (nothing else reads process.env): where the store lives, and the
 * conformance-suite variables. Parsed with the lab's configuration toolkit.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigReader, type Env } from '@mcp-lab/protocol/config';

export { ConfigError } from '@mcp-lab/protocol/config';

export interface ClientEnvConfig {
  /** $MCP_LAB_CLIENT_HOME, else $XDG_CONFIG_HOME/mcp-lab-client, else ~/.config/mcp-lab-client. */
  readonly storeDir: string;
  /** Set when the MCP conformance suite runs the client. */
  readonly conformance: { readonly scenario: string; readonly context: Record<string, unknown> | undefined } | undefined;
  /** Colors on stdout (a TTY and NO_COLOR unset). */
  readonly color: boolean;
  /** MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK=true: refresh without the store lock. Only the refresh-race test sets it. */
  readonly refreshLockOff: boolean;
}

/** @throws ConfigError naming every bad variable. */
export function loadConfig(env: Env, stdoutIsTty: boolean): ClientEnvConfig {
  const r = new ConfigReader('mcp-lab-client environment', env);
  const scenario = r.raw('MCP_CONFORMANCE_SCENARIO');
  // Read only in conformance mode: the suite sets both, a person's shell may have a stale context.
  const context = scenario === undefined ? undefined : r.jsonObject('MCP_CONFORMANCE_CONTEXT');
  return r.finish({
    storeDir: r.string('MCP_LAB_CLIENT_HOME', join(r.string('XDG_CONFIG_HOME', join(homedir(), '.config')), 'mcp-lab-client')),
    conformance: scenario === undefined ? undefined : { scenario, context },
    // no-color.org: NO_COLOR present and not empty turns colors off.
    color: stdoutIsTty && (env.NO_COLOR ?? '') === '',
    refreshLockOff: r.bool('MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK', false),
  });
}

/**
 * Where V8's compile cache for the CLI lives (module.enableCompileCache): $XDG_CACHE_HOME/mcp-lab-client/compile-cache,
 * else ~/.cache/mcp-lab-client/compile-cache. Read before loadConfig because it must be in place before the
 * command's modules load; a cache is only an optimisation, so it has no error of its own.
 */
export function compileCacheDir(env: Env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mcp-lab-client', 'compile-cache');
}
