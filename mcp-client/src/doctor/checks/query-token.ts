/**
 * Access tokens in the query string must be refused (MCP 2026-07-28 Authorization: Token Requirements; RFC 9700
 * §4.3.2 / RFC 6750 §2.3 — URLs end up in logs and Referer headers).
 */
import type { CheckDefinition } from '../check.ts';
import { describeProbe, type DoctorContext } from '../context.ts';
import { INITIALIZE_REQUEST, jsonRpcInit, type CheckModule } from '../module.ts';
import { mcp } from '../spec.ts';

export const TOKEN_QUERY_REFUSED: CheckDefinition = {
  id: 'token-query-refused',
  concern: 'token',
  title: 'An access token in the query string is refused',
  meaning: 'MCP forbids tokens in URIs: they leak into logs, proxies and Referer headers; a server that accepts them invites clients to send them.',
  spec: mcp('basic/authorization', 'Token Requirements', 'token-requirements'),
  fix: 'Read tokens only from the Authorization header; answer a request with access_token in the query 400 invalid_request.',
  needsCredentials: false,
};

async function run(ctx: DoctorContext): Promise<void> {
  const token = ctx.facts.token;
  const url = new URL(ctx.serverUrl);
  url.searchParams.set('access_token', token ? token.accessToken : 'doctor-not-a-real-token');
  const body = token && ctx.facts.mcpRequest ? ctx.facts.mcpRequest.body : INITIALIZE_REQUEST;
  const headers = token && ctx.facts.mcpRequest ? ctx.facts.mcpRequest.headers : {};
  const p = await ctx.send(`MCP request with ${token ? 'the valid token' : 'a made-up token'} in the query string`, url.href, jsonRpcInit(body, headers));
  const ev = [p.evidence];
  const what = `${describeProbe(p)} to ?access_token=${token ? '<valid token>' : '<made-up token>'}`;
  if (p.status === 400) ctx.report(TOKEN_QUERY_REFUSED, 'pass', what, ev);
  else if (p.status === undefined || (p.status >= 200 && p.status < 300) || p.status >= 500) ctx.report(TOKEN_QUERY_REFUSED, 'fail', what, ev);
  else if (!token && p.status === 401) ctx.report(TOKEN_QUERY_REFUSED, 'not-applicable', `${what}: a made-up token is refused anyway; run with --login or --token to tell whether a valid one would be`, ev);
  else if (p.status === 401) ctx.report(TOKEN_QUERY_REFUSED, 'pass', `${what}: refused (400 invalid_request would say why)`, ev);
  else ctx.report(TOKEN_QUERY_REFUSED, 'warn', `${what}: refused, but neither 400 nor 401`, ev);
}

export const queryTokenModule: CheckModule = { name: 'query-token', checks: [TOKEN_QUERY_REFUSED], run };
