/**
 * The orchestrator: runs the MCP authorization sequence one step at a time and emits a step event for each
 * (MCP Authorization: Authorization Flow Steps). Its parts, one concern each, live in ./flow/: discovery, the
 * token policy (stored token before login, refresh before re-authorization), authorization, and the MCP session
 * whose recovery after a refusal is decided by one pure function (flow/next-action.ts).
 */
import { FlowError } from './errors.ts';
import { loadMcpSdk } from './steps/mcp.ts';
import { probe } from './steps/probe.ts';
import { discover } from './flow/discovery.ts';
import { runMcp } from './flow/mcp-session.ts';
import { createFlowRun } from './flow/run.ts';
import { warmToken } from './flow/tokens.ts';
import type { FlowOptions, FlowResult } from './flow/types.ts';

export { DEFAULT_REDIRECT_URI, type Command, type FlowOptions, type FlowResult } from './flow/types.ts';

/** Runs the whole sequence for one command. */
export async function runFlow(opts: FlowOptions): Promise<FlowResult> {
  const serverUrl = checkOptions(opts);
  const run = createFlowRun(opts);
  // Every command ends with MCP steps: start loading the SDK now, so that it overlaps the requests before
  // initialize. A failed load is reported by connectMcp, which awaits the same promise.
  loadMcpSdk(opts.transport).catch(() => undefined);
  const warm = await warmToken(run, serverUrl);
  if (warm) return runMcp(run, serverUrl, { origin: 'warm', tokens: warm });
  const probed = await run.step('probe', async (ctx) => {
    const r = await probe(ctx, serverUrl, opts.transport);
    return [r, { status: r.status, auth_required: r.authRequired, resource_metadata: r.resourceMetadataUrl, scope: r.scope?.join(' ') }];
  });
  if (!probed.authRequired) return runMcp(run, serverUrl, { origin: 'none' });
  const found = await discover(run, serverUrl, { resourceMetadataUrl: probed.resourceMetadataUrl, challengeScope: probed.scope });
  return runMcp(run, serverUrl, { origin: 'discovered', ...found });
}

/** The server URL, normalized; refuses options that cannot work together. */
function checkOptions(opts: FlowOptions): string {
  let serverUrl: string;
  try {
    serverUrl = new URL(opts.serverUrl).href;
  } catch (cause) {
    throw new FlowError(`not a URL: ${opts.serverUrl}`, { code: 'invalid-options', hint: 'pass the MCP endpoint, e.g. http://127.0.0.1:3000/mcp', cause });
  }
  if (opts.cookie && opts.transport !== 'sse') throw new FlowError('--cookie works with --transport sse only', { code: 'invalid-options' });
  return serverUrl;
}
