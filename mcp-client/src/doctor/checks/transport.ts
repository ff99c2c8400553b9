/**
 * DNS-rebinding protection on the MCP endpoint: a foreign `Origin` must be refused with 403 (MCP transports
 * security warning), and a loopback server that needs no token should also check `Host`.
 */
import { messageOf } from '../../errors.ts';
import { isLoopbackHost } from '../../loopback.ts';
import type { CheckDefinition, Evidence } from '../check.ts';
import { describeProbe, type DoctorContext } from '../context.ts';
import { INITIALIZE_REQUEST, jsonRpcInit, type CheckModule } from '../module.ts';
import { mcp } from '../spec.ts';

export const TRANSPORT_ORIGIN: CheckDefinition = {
  id: 'transport-origin',
  concern: 'transport',
  title: 'A request with a foreign Origin is refused with 403',
  meaning: 'Without Origin validation a web page the user visits can drive the MCP server (DNS rebinding, cross-site requests).',
  spec: mcp('basic/transports', 'Security Warning', 'security-warning'),
  fix: 'Validate the Origin header on every MCP request and answer 403 when it is present and not on your allow-list.',
  needsCredentials: false,
};

export const TRANSPORT_HOST: CheckDefinition = {
  id: 'transport-host',
  concern: 'transport',
  title: 'A loopback server that needs no token refuses a foreign Host',
  meaning: 'A DNS-rebound page reaches a local server under the attacker\'s host name; without a token requirement, Host is the last check.',
  spec: mcp('basic/transports', 'Security Warning', 'security-warning'),
  fix: 'Bind to 127.0.0.1 and refuse requests whose Host is not localhost/127.0.0.1 (e.g. the SDK\'s allowedHosts).',
  needsCredentials: false,
};

const EVIL_ORIGIN = 'https://evil.example';

async function checkOrigin(ctx: DoctorContext): Promise<void> {
  const token = ctx.facts.token;
  const headers: Record<string, string> = { origin: EVIL_ORIGIN };
  if (token) headers.authorization = `Bearer ${token.accessToken}`;
  const body = token && ctx.facts.mcpRequest ? ctx.facts.mcpRequest.body : INITIALIZE_REQUEST;
  const extra = token && ctx.facts.mcpRequest ? ctx.facts.mcpRequest.headers : {};
  const p = await ctx.send(`MCP request with Origin ${EVIL_ORIGIN}${token ? ' and a valid token' : ''}`, ctx.serverUrl, jsonRpcInit(body, { ...extra, ...headers }));
  const ev = [p.evidence];
  const what = `${describeProbe(p)} to Origin: ${EVIL_ORIGIN}`;
  if (p.status === 403) ctx.report(TRANSPORT_ORIGIN, 'pass', what, ev);
  else if (p.status === undefined || (p.status >= 200 && p.status < 300) || p.status >= 500) ctx.report(TRANSPORT_ORIGIN, 'fail', what, ev);
  else if (p.status === 401 && !token) ctx.report(TRANSPORT_ORIGIN, 'not-applicable', `${what}: the server asks for credentials before any Origin check; run with --login or --token to tell`, ev);
  else ctx.report(TRANSPORT_ORIGIN, 'warn', `${what}: refused, but not with 403`, ev);
}

async function checkHost(ctx: DoctorContext): Promise<void> {
  const url = new URL(ctx.serverUrl);
  if (!isLoopbackHost(url.hostname) || url.protocol !== 'http:') {
    ctx.report(TRANSPORT_HOST, 'not-applicable', `${url.host} is not a loopback http server`);
    return;
  }
  const host = `evil.example${url.port ? `:${url.port}` : ''}`;
  let response: Response | undefined;
  let error: string | undefined;
  const startedAt = new Date().toISOString();
  const started = performance.now();
  try {
    response = await ctx.settings.hostProbe(ctx.serverUrl, host, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INITIALIZE_REQUEST),
    });
    await response.body?.cancel();
  } catch (err) {
    error = messageOf(err);
  }
  const status = response?.status;
  const evidence: Evidence = { method: 'POST', url: ctx.serverUrl, status: status ?? 0, headers: { host }, startedAt, ms: Math.round(performance.now() - started), purpose: `MCP request with Host: ${host}`, ...(error ? { body: `network error: ${error}` } : {}) };
  ctx.recordExchange(evidence);
  const what = `${status === undefined ? `network error: ${error}` : `HTTP ${status}`} to Host: ${host}`;
  if (status !== undefined && status >= 400 && status < 500 && status !== 401) ctx.report(TRANSPORT_HOST, 'pass', `${what}: refused`, [evidence]);
  else if (status === 401) ctx.report(TRANSPORT_HOST, 'not-applicable', `${what}: no Host check, but every MCP request needs a bearer token, which a rebound page cannot send`, [evidence]);
  else ctx.report(TRANSPORT_HOST, 'warn', `${what}: served under a foreign host name without a token`, [evidence]);
}

async function run(ctx: DoctorContext): Promise<void> {
  await checkOrigin(ctx);
  await checkHost(ctx);
}

export const transportModule: CheckModule = { name: 'transport', checks: [TRANSPORT_ORIGIN, TRANSPORT_HOST], run };
