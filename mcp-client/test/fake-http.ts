/**
 * A fake network for unit tests: routes keyed by "METHOD url" answer with real Response objects, and every
 * request is logged. It is passed as `fetch`; no global is patched.
 */
import type { FetchLike } from '../src/http.ts';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body: string;
}

export type Handler = (req: SeenRequest) => Response | Promise<Response>;

export interface FakeNetwork {
  readonly fetch: FetchLike;
  readonly seen: SeenRequest[];
  on(method: string, url: string, handler: Handler | Response): void;
  /** URLs (without query) requested, in order, as "METHOD url". */
  calls(): string[];
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function fakeNetwork(): FakeNetwork {
  const routes = new Map<string, Handler>();
  const seen: SeenRequest[] = [];
  const fetch: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const body = request.body ? await request.text() : '';
    const req: SeenRequest = { method: request.method, url: request.url, headers: request.headers, body };
    seen.push(req);
    const u = new URL(request.url);
    const key = `${request.method} ${u.origin}${u.pathname}`;
    const handler = routes.get(key);
    if (!handler) return new Response('not found', { status: 404 });
    return handler(req);
  };
  return {
    fetch,
    seen,
    on(method, url, handler) {
      if (typeof handler === 'function') {
        routes.set(`${method} ${url}`, handler);
        return;
      }
      // A fresh Response per request (a clone is a tee, whose cancel() waits for the other branch).
      const { status, headers } = handler;
      const text = handler.text();
      routes.set(`${method} ${url}`, async () => new Response(status === 204 ? null : await text, { status, headers }));
    },
    calls() {
      return seen.map((r) => {
        const u = new URL(r.url);
        return `${r.method} ${u.origin}${u.pathname}`;
      });
    },
  };
}
