import { describe, expect, it } from 'vitest';
import { parseSse, rpcMessages } from '../src/sse.ts';

describe('the SSE reader', () => {
  it('reads named and unnamed events, multi-line data and CRLF line ends', () => {
    expect(parseSse('event: endpoint\r\ndata: /messages?sessionId=1\r\n\r\n: keep-alive\n\ndata: {"a":1}\ndata: {"b":2}\n\n')).toEqual([
      { event: 'endpoint', data: '/messages?sessionId=1' },
      { event: 'message', data: '{"a":1}\n{"b":2}' },
    ]);
  });

  it('reads JSON-RPC messages from a JSON body, a batch, or an event stream', () => {
    expect(rpcMessages('{"jsonrpc":"2.0","id":1,"result":{}}')).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    expect(rpcMessages('[{"id":1},{"id":2}]').map((m) => m.id)).toEqual([1, 2]);
    expect(rpcMessages('event: message\ndata: {"jsonrpc":"2.0","id":3,"result":{}}\n\n')).toEqual([{ jsonrpc: '2.0', id: 3, result: {} }]);
  });
});
