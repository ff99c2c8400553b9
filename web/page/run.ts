/**
 * The browser client's sequence, in the CLI's steps (imported from mcp-lab-client, so both clients check the
 * same things): probe → resource metadata → AS metadata → registration → authorize (a top-level navigation) —
 * then, back at /callback: callback checks → token → POST /session (cookie) → MCP over the page's own
 * EventSource with the cookie → MCP over Streamable HTTP with the bearer token → (logout: the stream ends).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { redactUrl, buildAuthorizationRequest, validateCallback, discoverAuthorizationServer, connectMcp, probe, discoverResourceMetadata, describeTokens, exchangeCode } from 'mcp-lab-client/browser';
import { PAGE_PATHS, type PageConfig } from '../src/page-config.ts';
import { NativeSseTransport, type StreamEnd } from './native-sse.ts';
import { registerPageClient } from './registration.ts';
import { saveRun, type SavedRun } from './saved-run.ts';
import type { StepRunner } from './steps.ts';

/** The tool both transports call: it needs no write permission and shows who the RS thinks is calling. */
export const TOOL = 'whoami';

function redirectUri(): string {
  return `${location.origin}${PAGE_PATHS.callback}`;
}

/** Discovery, registration and the authorization request; ends by navigating to the authorization server. */
export async function startRun(runner: StepRunner, config: PageConfig, navigate: (url: string) => void): Promise<void> {
  const mcpUrl = `${config.rsUrl}/mcp`;
  const probed = await runner.run('probe', async (ctx) => {
    const result = await probe(ctx, mcpUrl, 'http');
    ctx.check('WWW-Authenticate readable by the page (CORS Access-Control-Expose-Headers)', result.challenge !== undefined, result.challenge ? 'exposed' : 'hidden from the page');
    return result;
  }, (r) => ({ status: r.status, scope: r.scope }));
  const prm = await runner.run('resource-metadata', (ctx) => discoverResourceMetadata(ctx, mcpUrl, probed.resourceMetadataUrl), (r) => ({ resource: r.metadata.resource, authorization_servers: r.metadata.authorization_servers }));
  const { as } = await runner.run('as-metadata', (ctx) => discoverAuthorizationServer(ctx, prm.issuer), (r) => ({ issuer: r.as.issuer, url: r.url }));
  const client = await runner.run('registration', (ctx) => registerPageClient(ctx, as, config.registration, redirectUri()), (c) => ({ method: c.method, client_id: c.client_id }));
  const scopes = [...(probed.scope ?? prm.metadata.scopes_supported ?? [])];
  const pending = await runner.run('authorize', async (ctx) => {
    const p = await buildAuthorizationRequest({ as, clientId: client.client_id, resource: prm.metadata.resource, scopes, listener: { redirectUri: redirectUri() } });
    ctx.record({ name: 'PKCE', ok: true, detail: 'code_challenge_method S256, computed with WebCrypto in the page' });
    ctx.record({ name: 'resource indicator', ok: true, detail: p.resource });
    ctx.record({ name: 'scope', ok: true, detail: p.scopes.join(' ') || '(none requested)' });
    return p;
  }, (p) => ({ navigate: redactUrl(p.authorizationUrl.href) }));
  const saved: SavedRun = { events: runner.events, as, client, pending: { ...pending, authorizationUrl: pending.authorizationUrl.href } };
  saveRun(saved);
  navigate(pending.authorizationUrl.href);
}

export interface Connected {
  /** The cookie-authenticated stream, kept open until logout. */
  readonly sse: NativeSseTransport;
  readonly sseResult: unknown;
  readonly httpResult: unknown;
}

/** Back at /callback: validate the response, get the token, then MCP over both transports. */
export async function resumeRun(runner: StepRunner, config: PageConfig, saved: SavedRun, callbackUrl: URL): Promise<Connected> {
  const { as, client } = saved;
  const pending = { ...saved.pending, authorizationUrl: new URL(saved.pending.authorizationUrl) };
  const params = await runner.run('callback', async (ctx) => {
    ctx.recorder.add({ method: 'GET', url: redactUrl(callbackUrl.href), status: 200, headers: {} });
    return validateCallback(ctx, as, client.client_id, pending, callbackUrl);
  });
  const tokens = await runner.run('token', (ctx) => exchangeCode(ctx, { as, client, resource: pending.resource }, params, pending.redirectUri, pending.codeVerifier, pending.scopes), describeTokens);
  const accessToken = tokens.access_token;

  await runner.run('session', async (ctx) => {
    const response = await ctx.fetch(`${config.rsUrl}/session`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` }, credentials: 'include' });
    await response.body?.cancel();
    ctx.check('session cookie issued (POST /session)', response.status === 204, `HTTP ${response.status}`);
    ctx.check('cookie is HttpOnly: the page cannot read it', !document.cookie.includes('mcp_lab_session='), 'absent from document.cookie');
  });

  // The page's own EventSource: the cookie is the only credential it can carry.
  const sse = new NativeSseTransport(new URL(`${config.rsUrl}/sse`), runner.fetch, (url) =>
    runner.add({ method: 'GET', url, status: 200, headers: { accept: 'text/event-stream', credentials: 'cookie (EventSource withCredentials)' } }),
  );
  const sseClient = new Client({ name: 'mcp-lab-browser', version: '0.1.0' });
  sseClient.onerror = () => undefined;
  const via = { transport: 'HTTP+SSE', auth: 'cookie' };
  await runner.run('initialize', async (ctx) => {
    await sseClient.connect(sse);
    ctx.record({ name: 'initialized', ok: true, detail: 'over the page’s EventSource, authenticated by the session cookie' });
  }, () => via);
  await runner.run('tools-list', async (ctx) => {
    const { tools } = await sseClient.listTools();
    ctx.check('tools listed', tools.length > 0, String(tools.length));
    return tools.map((t) => t.name);
  }, (tools) => ({ ...via, tools }));
  const sseResult = await runner.run('tools-call', async (ctx) => {
    const r = await sseClient.callTool({ name: TOOL, arguments: {} });
    ctx.check('tool succeeded', r.isError !== true, TOOL);
    return r;
  }, (r) => ({ ...via, tool: TOOL, content: r.content }));

  const bearer = { transport: 'Streamable HTTP', auth: 'bearer' };
  const connection = await runner.run('initialize', (ctx) => connectMcp(ctx, runner.fetch, `${config.rsUrl}/mcp`, 'http', { kind: 'bearer', accessToken }), () => bearer);
  await runner.run('tools-list', async (ctx) => {
    const { tools } = await connection.run('tools/list', (c) => c.listTools());
    ctx.check('tools listed', tools.length > 0, String(tools.length));
    return tools.map((t) => t.name);
  }, (tools) => ({ ...bearer, tools }));
  const httpResult = await runner.run('tools-call', async (ctx) => {
    const r = await connection.run('tools/call', (c) => c.callTool({ name: TOOL, arguments: {} }));
    ctx.check('tool succeeded', r.isError !== true, TOOL);
    // Terminates the Streamable HTTP session (DELETE /mcp); its exchange belongs to this step.
    await connection.close(true);
    return r;
  }, (r) => ({ ...bearer, tool: TOOL, content: r.content }));
  return { sse, sseResult: sseResult.content, httpResult: httpResult.content };
}

/**
 * DELETE /session, then wait for the server to end the stream: the page never closes its EventSource itself,
 * so a closed stream proves the RS ended it, and a refused reconnect proves the cookie is dead.
 */
export async function logout(runner: StepRunner, config: PageConfig, sse: NativeSseTransport): Promise<StreamEnd | undefined> {
  return runner.run('logout', async (ctx) => {
    const watching = sse.watchEnd(10_000);
    const response = await ctx.fetch(`${config.rsUrl}/session`, { method: 'DELETE', credentials: 'include' });
    await response.body?.cancel();
    ctx.check('session deleted (DELETE /session)', response.status === 204, `HTTP ${response.status}`);
    const end = await watching;
    ctx.check('the server ended the SSE stream', end !== undefined, end ? `after ${end.endedAfterMs} ms` : 'still open after 10 s');
    ctx.check('reconnect refused: the cookie no longer authenticates', end?.reconnectRefused === true, end?.reconnectRefused ? 'EventSource CLOSED: the reconnect was not answered 200' : 'the browser is still reconnecting');
    return end;
  }, (end) => ({ streamEnded: end !== undefined, reconnectRefused: end?.reconnectRefused ?? false, endedAfterMs: end?.endedAfterMs }));
}
