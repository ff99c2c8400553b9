/**
 * HTTP at the level a shutdown test needs, over node:http and node:net: the exact `Connection` header a server
 * sent (fetch hides hop-by-hop headers), a request kept in flight on purpose (its body sent in two halves), and
 * whether a port still accepts connections at all.
 */
import { request as httpRequest } from 'node:http';
import type { Agent, ClientRequest, IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

/** A response read to its end. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RawRequestInit {
  readonly method: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Keep-alive agent, to send the next request on the same connection. */
  readonly agent?: Agent;
}

/** Opens a request (the caller writes and ends it); `answer` rejects when the connection ends without a response. */
export function rawRequest(url: string, init: RawRequestInit): { req: ClientRequest; answer: Promise<RawAnswer> } {
  const req = httpRequest(url, { method: init.method, headers: { ...init.headers }, ...(init.agent ? { agent: init.agent } : {}) });
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { req, answer };
}

/**
 * A POST in flight: its headers and the first half of `body` go out now, the rest on `finish()`. The server has
 * the request (its hooks ran) but cannot answer before `finish()`.
 */
export function slowPost(url: string, headers: Readonly<Record<string, string>>, body: string): { answer: Promise<RawAnswer>; finish(): void } {
  const { req, answer } = rawRequest(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } });
  const half = Math.floor(body.length / 2);
  req.write(body.slice(0, half));
  return { answer, finish: () => void req.end(body.slice(half)) };
}

/** Whether anything accepts TCP connections at `url`'s port on loopback (a server that stopped listening does not). */
export function accepts(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
