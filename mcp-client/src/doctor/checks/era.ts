/**
 * Which MCP protocol eras the server speaks: 2026-07-28 (stateless; `server/discover`) and 2025 (the
 * `initialize` handshake). Both are probed, with the token when there is one; the doctor reports what answered.
 */
import type { CheckDefinition } from '../check.ts';
import { describeProbe, type DoctorContext, type Probe } from '../context.ts';
import { DISCOVER_HEADERS, DISCOVER_REQUEST, INITIALIZE_REQUEST, jsonRpcInit, type CheckModule } from '../module.ts';
import { mcp } from '../spec.ts';

export const ERA_SUPPORT: CheckDefinition = {
  id: 'era-support',
  concern: 'era',
  title: 'The server answers the protocol era asked for (server/discover for 2026-07-28, initialize for 2025)',
  meaning: 'A 2026-07-28 client sends server/discover (or any request with _meta) and falls back to initialize only for a 2025-era server.',
  spec: mcp('server/discover', 'Discovery', 'discovery'),
  fix: 'Answer server/discover with supportedVersions (2026-07-28), and keep answering initialize for 2025-era clients.',
  needsCredentials: false,
};

function result(p: Probe): Record<string, unknown> | undefined {
  const r = (p.json as { result?: unknown } | undefined)?.result;
  return typeof r === 'object' && r !== null ? (r as Record<string, unknown>) : undefined;
}

async function run(ctx: DoctorContext): Promise<void> {
  const token = ctx.facts.token;
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token.accessToken}` } : {};
  const discover = await ctx.send('server/discover (2026-07-28)', ctx.serverUrl, jsonRpcInit(DISCOVER_REQUEST, { ...DISCOVER_HEADERS, ...auth }));
  const initialize = await ctx.send('initialize (2025)', ctx.serverUrl, jsonRpcInit(INITIALIZE_REQUEST, auth));
  const sessionId = initialize.response?.headers.get('mcp-session-id');
  if (sessionId) {
    // End the session the probe opened (Streamable HTTP session management), so the doctor leaves nothing behind.
    await ctx.send('end the initialize session', ctx.serverUrl, { method: 'DELETE', headers: { ...auth, 'mcp-session-id': sessionId } });
  }
  const versions = result(discover)?.supportedVersions;
  const modern = discover.status === 200 && Array.isArray(versions) && versions.includes('2026-07-28');
  const legacyVersion = initialize.status === 200 ? result(initialize)?.protocolVersion : undefined;
  const legacy = typeof legacyVersion === 'string';
  const ev = [discover.evidence, initialize.evidence];
  const summary = `2026-07-28 server/discover: ${modern ? `yes (supportedVersions ${(versions as string[]).join(', ')})` : `no (${describeProbe(discover)})`}; 2025 initialize: ${legacy ? `yes (protocolVersion ${legacyVersion})` : `no (${describeProbe(initialize)})`}`;
  // The request the token checks use must be one the server refuses without a token (a refusal proves nothing
  // otherwise); some servers answer server/discover publicly. initialize without a token got 401 (challenge-401).
  let discoverIsPublic = !token && modern;
  if (token && modern) {
    const bare = await ctx.send('server/discover without credentials', ctx.serverUrl, jsonRpcInit(DISCOVER_REQUEST, { ...DISCOVER_HEADERS }));
    discoverIsPublic = bare.status !== undefined && bare.status >= 200 && bare.status < 300;
  }
  if (modern && !discoverIsPublic) ctx.facts.mcpRequest = { body: DISCOVER_REQUEST, headers: { ...DISCOVER_HEADERS } };
  else if (legacy || ctx.facts.probe?.authRequired) ctx.facts.mcpRequest = { body: INITIALIZE_REQUEST, headers: {} };

  if (!token && !modern && !legacy && discover.status === 401 && initialize.status === 401) {
    ctx.report(ERA_SUPPORT, 'not-applicable', `both answered 401: run with --login or --token to see what the server speaks`, ev);
    return;
  }
  const era = ctx.settings.protocolEra;
  const ok = era === 'modern' ? modern : era === 'legacy' ? legacy : modern || legacy;
  const asked = era === 'modern' ? 'modern (2026-07-28)' : 'legacy (2025, initialize)';
  ctx.report(ERA_SUPPORT, ok ? 'pass' : 'fail', era === 'auto' ? summary : `asked for ${asked}: ${summary}`, ev);
}

export const eraModule: CheckModule = { name: 'era', checks: [ERA_SUPPORT], run };
