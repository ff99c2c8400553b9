/**
 * A fetch that records every exchange it makes: the SDK transports take it for MCP, metadata, registration and token
 * requests alike, so a test can assert the wire (what was asked, in which order, and what came back).
 */

/** One HTTP exchange, as the SDK suites judge it. */
export interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** The headers the request was sent with. */
  readonly requestHeaders: Headers;
  /** The request body as text, when there was one. */
  readonly requestBody: string | undefined;
  /** The response's `WWW-Authenticate`, or null. */
  readonly wwwAuthenticate: string | null;
  /** The `grant_type` of a form-encoded (token) request. */
  readonly grantType: string | undefined;
}

/** Real fetch underneath; each exchange is appended to `log` once its response headers arrive. */
export function recordingFetch(log: Exchange[]): typeof fetch {
  return async function recorded(input, init) {
    const request = new Request(input, init);
    const requestBody = request.body === null ? undefined : await request.clone().text();
    const form = (request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded');
    const grantType = form && requestBody !== undefined ? (new URLSearchParams(requestBody).get('grant_type') ?? undefined) : undefined;
    const res = await fetch(input, init);
    log.push({
      method: request.method,
      url: request.url,
      status: res.status,
      requestHeaders: request.headers,
      requestBody,
      wwwAuthenticate: res.headers.get('www-authenticate'),
      grantType,
    });
    return res;
  };
}
