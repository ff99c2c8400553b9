import { describe, expect, it } from 'vitest';
import { FlowError } from '../src/errors.ts';
import { createStepContext } from '../src/step-context.ts';
import { probe } from '../src/steps/probe.ts';
import { fakeNetwork, json } from './fake-http.ts';

const MCP = 'https://rs.example.com/mcp';

function unauthorized(header: string | undefined): Response {
  return json({ error: 'unauthorized' }, 401, header === undefined ? {} : { 'www-authenticate': header });
}

/** The challenge table: what the probe reads from each WWW-Authenticate. */
const CHALLENGES = [
  {
    name: 'quoted resource_metadata and scope',
    header: 'Bearer resource_metadata="https://rs.example.com/.well-known/oauth-protected-resource/mcp", scope="notes:read"',
    prm: 'https://rs.example.com/.well-known/oauth-protected-resource/mcp',
    scope: ['notes:read'],
  },
  {
    name: 'scheme in another case and a second scheme before it',
    header: 'Basic realm="x", bearer resource_metadata="https://rs.example.com/prm", scope="a b"',
    prm: 'https://rs.example.com/prm',
    scope: ['a', 'b'],
  },
  {
    name: 'token (unquoted) value and an escaped quote elsewhere',
    header: 'Bearer realm="a \\"q\\"", error=invalid_token, resource_metadata="https://rs.example.com/prm"',
    prm: 'https://rs.example.com/prm',
    scope: undefined,
  },
  { name: 'Bearer without parameters', header: 'Bearer', prm: undefined, scope: undefined },
  { name: 'no WWW-Authenticate at all', header: undefined, prm: undefined, scope: undefined },
];

/** Parsing the challenge of the unauthenticated request. */
function challengeTests(): void {
  it.each(CHALLENGES)('$name', async ({ header, prm, scope }) => {
    const net = fakeNetwork();
    net.on('POST', MCP, unauthorized(header));
    const ctx = createStepContext(net.fetch);
    const r = await probe(ctx, MCP, 'http');
    expect(r.authRequired).toBe(true);
    expect(r.resourceMetadataUrl).toBe(prm);
    expect(r.scope).toEqual(scope);
  });

  it('refuses a malformed header with a FlowError naming the grammar', async () => {
    const net = fakeNetwork();
    net.on('POST', MCP, unauthorized('Bearer resource_metadata="unterminated'));
    await expect(probe(createStepContext(net.fetch), MCP, 'http')).rejects.toThrow(/WWW-Authenticate header is malformed/);
  });

}

/** What the probe sends, per transport and era, and how it reads answers other than a 401. */
function requestAndAnswerTests(): void {
  it('sends an MCP initialize POST without credentials for the http transport', async () => {
    const net = fakeNetwork();
    net.on('POST', MCP, unauthorized('Bearer'));
    await probe(createStepContext(net.fetch), MCP, 'http');
    const req = net.seen[0]!;
    expect(req.headers.get('authorization')).toBeNull();
    expect(JSON.parse(req.body).method).toBe('initialize');
  });

  it.each(['auto', 'modern'] as const)('--protocol-era %s: sends server/discover with the 2026-07-28 headers and _meta', async (era) => {
    const net = fakeNetwork();
    net.on('POST', MCP, unauthorized('Bearer'));
    await probe(createStepContext(net.fetch), MCP, 'http', era);
    const req = net.seen[0]!;
    expect(req.headers.get('authorization')).toBeNull();
    expect(req.headers.get('mcp-protocol-version')).toBe('2026-07-28');
    expect(req.headers.get('mcp-method')).toBe('server/discover');
    const body = JSON.parse(req.body);
    expect(body.method).toBe('server/discover');
    expect(body.params._meta).toMatchObject({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} });
  });

  it('a JSON-RPC error on a 400 is the server answering without asking for credentials', async () => {
    const net = fakeNetwork();
    net.on('POST', MCP, json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: Mcp-Session-Id header is required' } }, 400));
    const ctx = createStepContext(net.fetch);
    const r = await probe(ctx, MCP, 'http', 'auto');
    expect(r.authRequired).toBe(false);
    expect(ctx.checks.at(-1)).toMatchObject({ name: 'server requires authorization', ok: true, detail: expect.stringContaining('JSON-RPC error -32000') });
  });

  it('a 400 without a JSON-RPC body is still a failed check', async () => {
    const net = fakeNetwork();
    net.on('POST', MCP, new Response('bad request', { status: 400, headers: { 'content-type': 'text/plain' } }));
    const ctx = createStepContext(net.fetch);
    await expect(probe(ctx, MCP, 'http', 'auto')).rejects.toBeInstanceOf(FlowError);
    expect(ctx.checks.at(-1)).toMatchObject({ name: 'unauthenticated request answered 401', ok: false, detail: 'HTTP 400' });
  });

  it('sends a GET for the sse transport', async () => {
    const net = fakeNetwork();
    net.on('GET', 'https://rs.example.com/sse', unauthorized('Bearer'));
    await probe(createStepContext(net.fetch), 'https://rs.example.com/sse', 'sse');
    expect(net.calls()).toEqual(['GET https://rs.example.com/sse']);
  });

  it('reports a server that needs no authorization', async () => {
    const net = fakeNetwork();
    net.on('POST', MCP, json({ jsonrpc: '2.0', id: 0, result: {} }));
    const r = await probe(createStepContext(net.fetch), MCP, 'http');
    expect(r.authRequired).toBe(false);
  });

  it('refuses a status other than 401 with a failed check', async () => {
    const net = fakeNetwork();
    const ctx = createStepContext(net.fetch);
    const err = await probe(ctx, MCP, 'http').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowError);
    expect(ctx.checks.at(-1)).toMatchObject({ name: 'unauthenticated request answered 401', ok: false, detail: 'HTTP 404' });
  });
}

describe('probe: WWW-Authenticate parsing', () => {
  challengeTests();
  requestAndAnswerTests();
});
