/**
 * Sessions through the compose stack's proxy, from the host, with real tokens from the compose IdP (one login per
 * user): a cookie session answers on whichever replica a request lands and its logout ends it on all of them; a
 * client hanging up on its SSE stream frees it on the replica (reconnecting past every replica's cap); another user
 * presenting alice's legacy SSE session or her Streamable HTTP session is refused with the same 403
 * by every replica — for Streamable HTTP once the proxy has lost its affinity table (a restart), so that bob's
 * requests go round-robin instead of to the owner.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_SPECS } from '../mcp-server/src/config.ts';
import { ALICE, BOB, MCP_HEADERS } from '@mcp-lab/test-kit/rs-session';
import { openSse, type SseStream } from '@mcp-lab/test-kit/sse';
import { obtainToken } from '@mcp-lab/test-kit/tokens';
import { INITIALIZE, INITIALIZED, nextEvent, postMessage, responseTo, whoami } from './scale-harness.ts';
import { onlyReplica, proxyAnswers, REPLICAS, served, servedSince, type ComposeLab } from './scale-compose-lab.ts';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function whoamiSub(message: Record<string, any>): string {
  return JSON.parse(message.result.content[0].text).sub;
}

/** A legacy stream through the proxy, initialized with `headers` (POSTs round-robin over the replicas). */
async function openInitialized(lab: ComposeLab, headers: Record<string, string>, streamHeaders = headers): Promise<SseStream> {
  const stream = await openSse(`${lab.rsUrl}/sse`, streamHeaders);
  expect((await postMessage(lab.rsUrl, stream.endpoint, INITIALIZE, headers)).status).toBe(202);
  expect((await responseTo(stream, 1)).result?.serverInfo).toBeDefined();
  expect((await postMessage(lab.rsUrl, stream.endpoint, INITIALIZED, headers)).status).toBe(202);
  return stream;
}

/** What an answer is judged by: status, challenge and body. */
async function answerOf(res: Response): Promise<{ status: number; challenge: string | null; body: string }> {
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
}

/** The two users' access tokens for the RS behind the proxy, one login each. */
interface Tokens {
  alice: string;
  bob: string;
}

/** The cookie-session, stream and foreign-user tests; `lab` is filled in by the suite's beforeAll. */
export function sessionTests(lab: ComposeLab): void {
  describe('sessions through the proxy', () => {
    const tokens: Tokens = { alice: '', bob: '' };
    beforeAll(async () => {
      const login = (user: { username: string; password: string }) =>
        obtainToken({ issuer: lab.idpIssuer, resource: `${lab.rsUrl}/mcp`, username: user.username, password: user.password, driver: 'embedded' });
      [tokens.alice, tokens.bob] = (await Promise.all([login(ALICE), login(BOB)])).map((t) => t.access_token) as [string, string];
    });
    streamTests(lab, tokens);
    foreignUserTests(lab, tokens);
  });
}

/** A cookie session and a bearer stream, wherever their requests land. */
function streamTests(lab: ComposeLab, tokens: Tokens): void {
  it('a cookie session made through the proxy works on whichever replica answers, and its logout ends it on all', async () => {
    const made = await fetch(`${lab.rsUrl}/session`, { method: 'POST', headers: bearer(tokens.alice) });
    expect(made.status).toBe(204);
    const cookie = made.headers.get('set-cookie')!.split(';', 1)[0]!;
    // State-changing cookie requests need an allowed Origin (CSRF rule); the stream GET does not.
    const cookieHeaders = { cookie, origin: lab.rsUrl };
    const posts = await served(lab, 'POST', '/messages');
    const stream = await openInitialized(lab, cookieHeaders, { cookie });
    try {
      for (let id = 2; id < 6; id++) {
        expect((await postMessage(lab.rsUrl, stream.endpoint, whoami(id), cookieHeaders)).status).toBe(202);
        expect(whoamiSub(await responseTo(stream, id))).toBe(ALICE.sub);
      }
      const delta = await servedSince(lab, posts, 'POST', '/messages', 6);
      expect(delta.every((n) => n > 0), `cookie POSTs per replica: ${delta.join(', ')}`).toBe(true);

      expect((await fetch(`${lab.rsUrl}/session`, { method: 'DELETE', headers: cookieHeaders })).status).toBe(204);
      const ended = await nextEvent(stream);
      expect(ended.event).toBe('session_ended');
      expect(JSON.parse(ended.data).reason).toBe('logged_out');
    } finally {
      stream.close();
    }
    const gets = await served(lab, 'GET', '/sse');
    for (let i = 0; i < REPLICAS.length; i++) {
      expect((await fetch(`${lab.rsUrl}/sse`, { headers: { cookie, accept: 'text/event-stream' } })).status).toBe(401);
    }
    const refused = await servedSince(lab, gets, 'GET', '/sse', REPLICAS.length);
    expect(refused, 'the ended cookie was refused by every replica').toEqual([1, 1, 1]);
  });

  it("legacy SSE clients hanging up through the proxy free their streams: reconnecting past every replica's cap is never refused", async () => {
    // Each replica allows alice MCP_SSE_STREAMS_MAX_PER_SUBJECT open streams; round-robin gives each one cap + 1
    // of these. A stream a replica still held after its client left would make the last ones 429.
    const cap = LIMIT_SPECS.sseStreamsMaxPerSubject.defaultValue;
    const before = await served(lab, 'GET', '/sse');
    for (let i = 0; i < REPLICAS.length * (cap + 1); i++) (await openSse(`${lab.rsUrl}/sse`, bearer(tokens.alice))).close();
    const delta = await servedSince(lab, before, 'GET', '/sse', REPLICAS.length * (cap + 1));
    expect(Math.min(...delta), `GET /sse per replica: ${delta.join(', ')}`).toBeGreaterThan(cap);
  });
}

/** bob presenting alice's sessions: the owner's 403 from every replica. */
function foreignUserTests(lab: ComposeLab, tokens: Tokens): void {
  it("bob is refused alice's legacy SSE session through the proxy with the same 403 by every replica", async () => {
    const stream = await openInitialized(lab, bearer(tokens.alice));
    try {
      const before = await served(lab, 'POST', '/messages');
      const answers = [];
      for (let i = 0; i < REPLICAS.length; i++) answers.push(await answerOf(await postMessage(lab.rsUrl, stream.endpoint, whoami(9), bearer(tokens.bob))));
      expect(await servedSince(lab, before, 'POST', '/messages', REPLICAS.length)).toEqual([1, 1, 1]);
      // 403 session_forbidden as a JSON-RPC error, no Bearer challenge: the token is valid, no scope would help.
      expect(answers[0]!.status).toBe(403);
      expect(answers[0]!.challenge).toBeNull();
      expect(JSON.parse(answers[0]!.body).error.code).toBe(-31403);
      for (const a of answers) expect(a).toEqual(answers[0]);
      // Nothing reached alice's stream: her next own request is its next event.
      expect((await postMessage(lab.rsUrl, stream.endpoint, whoami(10), bearer(tokens.alice))).status).toBe(202);
      expect(whoamiSub(await responseTo(stream, 10))).toBe(ALICE.sub);
    } finally {
      stream.close();
    }
  });

  it("bob is refused alice's Streamable HTTP session through the proxy: 403 from her replica, and from every replica once affinity is lost", async () => {
    const before = await served(lab, 'POST', '/mcp');
    const init = await fetch(`${lab.rsUrl}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...bearer(tokens.alice) },
      body: JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, protocolVersion: '2025-06-18' } }),
    });
    expect(init.status).toBe(200);
    const sessionId = init.headers.get('mcp-session-id')!;
    await init.text();
    const asBob = async () =>
      answerOf(
        await fetch(`${lab.rsUrl}/mcp`, {
          method: 'POST',
          headers: { ...MCP_HEADERS, ...bearer(tokens.bob), 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
          body: JSON.stringify(whoami(2)),
        }),
      );
    // By affinity, bob's requests reach the replica that opened alice's session.
    const fromOwner = [await asBob(), await asBob()];
    const owner = onlyReplica(await servedSince(lab, before, 'POST', '/mcp', 3));
    expect(fromOwner[0]!.status).toBe(403);
    expect(fromOwner[0]!.challenge).toBeNull();
    expect(JSON.parse(fromOwner[0]!.body).error.code).toBe(-31403);
    expect(fromOwner[1]).toEqual(fromOwner[0]);

    // The proxy restarts and forgets its table: the session id now goes round-robin, and every replica that
    // does not hold the session answers from the session directory exactly as the owner did.
    const restart = await lab.compose(['restart', 'proxy']);
    expect(restart.code, restart.stderr).toBe(0);
    await proxyAnswers(lab);
    const after = await served(lab, 'POST', '/mcp');
    const fromAny = [];
    for (let i = 0; i < REPLICAS.length; i++) fromAny.push(await asBob());
    expect(await servedSince(lab, after, 'POST', '/mcp', REPLICAS.length), `alice's session is on ${owner}`).toEqual([1, 1, 1]);
    for (const a of fromAny) expect(a).toEqual(fromOwner[0]);
  });
}
