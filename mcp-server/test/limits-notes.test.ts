/**
 * Per-user notes quotas (count, length, bytes) and notes_list pages: each limit answers a tool error that names
 * it, on the lean path and through the SDK alike, and another user's notes are untouched.
 */
import { describe, expect, it } from 'vitest';
import { rpcMessages } from '@mcp-lab/test-kit/sse';
import { MCP_HEADERS, mint, openSession, testApp, toolCall } from './helpers.ts';
import { useTestRs } from './use-rs.ts';

const rs = useTestRs({
  MCP_NOTES_MAX_PER_USER: '3',
  MCP_NOTE_MAX_CHARS: '10',
  MCP_NOTES_MAX_BYTES_PER_USER: '24',
  MCP_NOTES_PAGE_SIZE_MAX: '2',
});

/** A fresh user with an open session; each test gets its own so that quotas do not carry over. */
async function user(sub: string) {
  const token = await mint(rs.keys, { sub });
  const sid = await openSession(rs.app, token);
  const call = async (body: unknown) => {
    const res = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid },
      payload: body as object,
    });
    expect(res.statusCode).toBe(200);
    return rpcMessages(res.body);
  };
  const tool = async (name: string, args: Record<string, unknown> = {}) => (await call(toolCall(name, args)))[0]!.result;
  return { call, tool };
}

function texts(result: { content: Array<{ text: string }> }): string[] {
  return (JSON.parse(result.content[0]!.text) as Array<{ text: string }>).map((n) => n.text);
}

describe('notes quotas', () => {
  it('refuses the note past MCP_NOTES_MAX_PER_USER with a tool error naming the limit', async () => {
    const u = await user('count-user');
    for (const t of ['a', 'b', 'c']) expect((await u.tool('notes_add', { text: t })).isError).toBeUndefined();
    const refused = await u.tool('notes_add', { text: 'd' });
    expect(refused).toEqual({
      content: [{ type: 'text', text: 'note limit reached: 3 notes per user (delete some first)' }],
      isError: true,
    });
    expect(texts(await u.tool('notes_list'))).toEqual(['a', 'b']);
  });

  it('leaves another user free to add notes when one user is at the count limit', async () => {
    const full = await user('full-user');
    for (const t of ['a', 'b', 'c']) await full.tool('notes_add', { text: t });
    expect((await full.tool('notes_add', { text: 'd' })).isError).toBe(true);
    const other = await user('other-user');
    expect((await other.tool('notes_add', { text: 'mine' })).isError).toBeUndefined();
    expect(texts(await other.tool('notes_list'))).toEqual(['mine']);
  });

  it('refuses a note longer than MCP_NOTE_MAX_CHARS with a tool error, storing nothing', async () => {
    const u = await user('length-user');
    const refused = await u.tool('notes_add', { text: 'x'.repeat(11) });
    expect(refused).toEqual({ content: [{ type: 'text', text: 'note too long: 11 characters, at most 10' }], isError: true });
    expect(texts(await u.tool('notes_list'))).toEqual([]);
  });

  it('refuses the note that would take the user past MCP_NOTES_MAX_BYTES_PER_USER (UTF-8 bytes)', async () => {
    const u = await user('bytes-user');
    // 'é' is two bytes: 8 characters = 16 bytes.
    expect((await u.tool('notes_add', { text: 'éééééééé' })).isError).toBeUndefined();
    const refused = await u.tool('notes_add', { text: 'éééé£' });
    expect(refused).toEqual({
      content: [{ type: 'text', text: 'storage limit reached: 24 bytes of notes per user (16 used, this note is 10)' }],
      isError: true,
    });
    expect((await u.tool('notes_add', { text: '12345678' })).isError).toBeUndefined();
  });

  it('answers a quota refusal through the SDK (a batch) exactly as on the lean path', async () => {
    const u = await user('sdk-user');
    for (const t of ['a', 'b', 'c']) await u.tool('notes_add', { text: t });
    const lean = await u.tool('notes_add', { text: 'd' });
    const [viaSdk] = await u.call([toolCall('notes_add', { text: 'd' }, 7)]);
    expect(viaSdk?.result).toEqual(lean);
  });
});

describe('notes_list pages', () => {
  it('pages with nextCursor beside content, MCP_NOTES_PAGE_SIZE_MAX at a time, until no cursor is left', async () => {
    const a = await user('pager');
    // Three notes fit the count limit; the page size is 2.
    for (const t of ['n1', 'n2', 'n3']) await a.tool('notes_add', { text: t });
    const first = await a.tool('notes_list');
    expect(texts(first)).toEqual(['n1', 'n2']);
    expect(first.nextCursor).toBeTypeOf('string');
    const second = await a.tool('notes_list', { cursor: first.nextCursor });
    expect(texts(second)).toEqual(['n3']);
    expect(second).not.toHaveProperty('nextCursor');
  });

  it('caps a requested limit at the server page size', async () => {
    const a = await user('big-page');
    for (const t of ['n1', 'n2', 'n3']) await a.tool('notes_add', { text: t });
    expect(texts(await a.tool('notes_list', { limit: 1000 }))).toEqual(['n1', 'n2']);
    expect(texts(await a.tool('notes_list', { limit: 1 }))).toEqual(['n1']);
  });

  it("never shows another user's notes through a cursor", async () => {
    const a = await user('cursor-owner');
    for (const t of ['a1', 'a2', 'a3']) await a.tool('notes_add', { text: t });
    const cursor = (await a.tool('notes_list')).nextCursor as string;
    const b = await user('cursor-thief');
    await b.tool('notes_add', { text: 'b1' });
    const stolen = await b.tool('notes_list', { cursor });
    // Compare note texts, not the serialized result: a random note id may contain "a3" by chance.
    expect(texts(stolen)).not.toContain('a3');
    expect(texts(stolen).every((t) => t.startsWith('b'))).toBe(true);
  });

  it('ends a page before MCP_NOTES_PAGE_MAX_BYTES of text (one note at least), the rest on the next page', async () => {
    const small = await testApp({ ...rs.jwksEnv, MCP_NOTES_PAGE_MAX_BYTES: '10', MCP_NOTES_PAGE_SIZE_MAX: '100' });
    try {
      const token = await mint(rs.keys, { sub: 'page-bytes' });
      const sid = await openSession(small, token);
      const tool = async (name: string, args: Record<string, unknown> = {}) => {
        const res = await small.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid }, payload: toolCall(name, args) });
        return rpcMessages(res.body)[0]!.result;
      };
      for (const t of ['aaaa', 'bbbb', 'cccccccccccc', 'd']) await tool('notes_add', { text: t });
      const first = await tool('notes_list');
      expect(texts(first)).toEqual(['aaaa', 'bbbb']);
      const second = await tool('notes_list', { cursor: first.nextCursor });
      expect(texts(second)).toEqual(['cccccccccccc']);
      const third = await tool('notes_list', { cursor: second.nextCursor });
      expect(texts(third)).toEqual(['d']);
      expect(third).not.toHaveProperty('nextCursor');
    } finally {
      await small.close();
    }
  });

  it('refuses a malformed cursor with a tool error', async () => {
    const u = await user('bad-cursor');
    expect(await u.tool('notes_list', { cursor: 'not-a-cursor' })).toEqual({
      content: [{ type: 'text', text: 'invalid cursor (pass back a nextCursor from notes_list)' }],
      isError: true,
    });
  });
});
