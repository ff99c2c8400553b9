import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBenchIssuer, type BenchIssuer } from '../jwt.ts';
import { runLoad } from '../load.ts';
import { isWhoamiResult, TOOLS_CALL_BODY } from '../mcp.ts';
import { cpuTimeMs, rssKiB } from '../proc.ts';
import { startTarget, type RunningTarget } from '../targets.ts';

const whoamiText = JSON.stringify({ sub: 'bench-user' });
const result = (id: number, text = whoamiText) => ({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } });

describe('isWhoamiResult', () => {
  it('accepts a JSON body with the whoami result of request 1', () => {
    expect(isWhoamiResult(JSON.stringify(result(1)))).toBe(true);
  });
  it('accepts the same result carried as an SSE message event', () => {
    expect(isWhoamiResult(`event: message\ndata: ${JSON.stringify(result(1))}\n\n`)).toBe(true);
  });
  it.each([
    ['another subject', JSON.stringify(result(1, JSON.stringify({ sub: 'mallory' })))],
    ['another request id', JSON.stringify(result(2))],
    ['a tool error', JSON.stringify({ jsonrpc: '2.0', id: 1, result: { isError: true, content: [{ type: 'text', text: whoamiText }] } })],
    ['a JSON-RPC error', JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'x' } })],
    ['an OAuth error body', JSON.stringify({ error: 'invalid_token' })],
    ['not JSON', '<html>nope</html>'],
  ])('rejects %s', (_name, body) => {
    expect(isWhoamiResult(body)).toBe(false);
  });
});

describe('load against the bare Fastify target', () => {
  let issuer: BenchIssuer;
  let target: RunningTarget;
  beforeAll(async () => {
    issuer = await startBenchIssuer();
    target = await startTarget('a', { issuer, rsLogLevel: 'warn' });
  });
  afterAll(async () => {
    await target?.server.stop();
    await issuer?.close();
  });

  const spec = (validate: (body: string) => boolean) => ({
    title: 'smoke',
    url: target.mcpUrl,
    method: 'POST' as const,
    headers: target.headers,
    body: TOOLS_CALL_BODY,
    connections: 4,
    durationS: 1,
    validate,
  });

  it('checks every response and reports a clean run as valid', async () => {
    const cpuBefore = cpuTimeMs(target.server.pid);
    const res = await runLoad(spec(isWhoamiResult));
    expect(res.responses).toBeGreaterThan(0);
    expect(res.statusCodes).toEqual({ '200': res.responses });
    expect(res).toMatchObject({ non2xx: 0, badBodies: 0, errors: 0, valid: true });
    expect(cpuTimeMs(target.server.pid)).toBeGreaterThan(cpuBefore);
    expect(rssKiB(target.server.pid)).toBeGreaterThan(0);
  });

  it('reports a run whose bodies fail validation as invalid, with a sample body', async () => {
    const res = await runLoad(spec(() => false));
    expect(res.valid).toBe(false);
    expect(res.badBodies).toBe(res.responses);
    expect(res.sampleBadBody).toContain('"jsonrpc":"2.0"');
  });
});

describe('the SDK peer', () => {
  it('answers tools/call with a JWT minted by the bench issuer and refuses a request without one', async () => {
    const issuer = await startBenchIssuer();
    const target = await startTarget('b', { issuer, rsLogLevel: 'warn' });
    try {
      const ok = await fetch(target.mcpUrl, { method: 'POST', headers: target.headers, body: TOOLS_CALL_BODY });
      expect(ok.status).toBe(200);
      expect(isWhoamiResult(await ok.text())).toBe(true);
      const { authorization: _dropped, ...anonymous } = target.headers;
      const denied = await fetch(target.mcpUrl, { method: 'POST', headers: anonymous, body: TOOLS_CALL_BODY });
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer /);
    } finally {
      await target.server.stop();
      await issuer.close();
    }
  });
});

describe('the lab RS in the 2026-07-28 era', () => {
  it('answers the stateless tools/call (d) and a load rotating through distinct tokens (e) is valid', async () => {
    const issuer = await startBenchIssuer();
    const target = await startTarget('e', { issuer, rsLogLevel: 'warn', tokenPoolSize: 5 });
    try {
      expect(target.tokenPool).toHaveLength(5);
      expect(new Set(target.tokenPool).size).toBe(5);
      const ok = await fetch(target.mcpUrl, { method: 'POST', headers: target.headers, body: target.body! });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('mcp-session-id')).toBeNull();
      expect(isWhoamiResult(await ok.text())).toBe(true);
      const res = await runLoad({
        title: 'smoke e',
        url: target.mcpUrl,
        method: 'POST',
        headers: target.headers,
        body: target.body!,
        connections: 2,
        durationS: 1,
        validate: isWhoamiResult,
        rotateBearer: target.tokenPool!,
      });
      expect(res).toMatchObject({ non2xx: 0, badBodies: 0, errors: 0, valid: true });
    } finally {
      await target.server.stop();
      await issuer.close();
    }
  });
});
