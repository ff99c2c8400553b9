/**
 * What a quirk may do to one exchange through the fault-injecting layer: rewrite the request, answer it itself,
 * or rewrite the (buffered) response. The layer (./layer.ts) runs the hooks of every enabled quirk in catalogue
 * order.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** The request as the layer forwards it; hooks may change `url` (path and query), headers and body. */
export interface QuirkRequest {
  readonly method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An answer a hook gives instead of the upstream. */
export interface QuirkAnswer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: string;
}

/** The upstream's answer; `body` is undefined when it is streamed through (event streams). */
export interface QuirkResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer | undefined;
}

export interface QuirkHooks {
  request?(req: QuirkRequest): QuirkAnswer | undefined | Promise<QuirkAnswer | undefined>;
  response?(req: QuirkRequest, res: QuirkResponse): void | Promise<void>;
}

/** The request's path and query parameters. */
export function target(req: QuirkRequest): URL {
  return new URL(req.url, 'http://layer.invalid');
}

/** A form body (application/x-www-form-urlencoded), as token requests send it. */
export function formBody(req: QuirkRequest): URLSearchParams | undefined {
  const type = String(req.headers['content-type'] ?? '');
  return type.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(req.body.toString('utf8')) : undefined;
}

export function setFormBody(req: QuirkRequest, form: URLSearchParams): void {
  req.body = Buffer.from(form.toString(), 'utf8');
}

/** The response body as a JSON object, or undefined when it is not one. */
export function jsonBody(res: QuirkResponse): Record<string, unknown> | undefined {
  if (res.body === undefined || !String(res.headers['content-type'] ?? '').includes('json')) return undefined;
  try {
    const v: unknown = JSON.parse(res.body.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    // Not JSON after all: the quirk leaves the body alone.
    return undefined;
  }
}

export function setJsonBody(res: QuirkResponse, json: unknown): void {
  res.body = Buffer.from(JSON.stringify(json), 'utf8');
}

/** A JSON answer from the layer itself (an OAuth error, a 404). */
export function jsonAnswer(status: number, json: unknown): QuirkAnswer {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(json) };
}

/** The `Location` of a redirect as a URL, when it is an authorization response (carries `state` and `code` or `error`). */
export function authorizationResponse(res: QuirkResponse): URL | undefined {
  const location = res.headers.location;
  if (typeof location !== 'string' || !URL.canParse(location)) return undefined;
  const url = new URL(location);
  return url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error')) ? url : undefined;
}

/** Whether a path is an authorization server metadata document (RFC 8414 or OpenID Connect Discovery). */
export function isAsMetadataPath(pathname: string): boolean {
  return pathname.startsWith('/.well-known/oauth-authorization-server') || pathname.endsWith('/.well-known/openid-configuration') || pathname.startsWith('/.well-known/openid-configuration');
}
