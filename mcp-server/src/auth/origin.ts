/**
 * Origin checks: DNS-rebinding protection for MCP endpoints (MCP transports spec: servers MUST validate
 * `Origin`) and CSRF protection for cookie-authenticated state changes.
 */
import { HttpError } from '../http-error.ts';

/** @throws HttpError 403 when an Origin header is present and not allowed. */
export function checkOrigin(origin: string | undefined, allowed: readonly string[]): void {
  if (origin !== undefined && !allowed.includes(origin)) {
    throw new HttpError('forbidden_origin', `origin ${JSON.stringify(origin)} is not allowed`);
  }
}

/**
 * An `onRequest` hook that refuses a request whose Origin header is present and not allowed (see checkOrigin);
 * one per route plugin, shared by every MCP and session endpoint.
 */
export function rejectForeignOrigin(allowed: readonly string[]) {
  return async function rejectForeignOrigin(request: { headers: { origin?: string } }): Promise<void> {
    checkOrigin(request.headers.origin, allowed);
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A cookie-authenticated state-changing request must prove where it comes from: an allowed Origin is required
 * (SameSite=Strict is the first line; this is the second).
 * @throws HttpError 403 otherwise.
 */
export function checkCookieOrigin(method: string, origin: string | undefined, allowed: readonly string[]): void {
  if (SAFE_METHODS.has(method)) return;
  if (origin === undefined || !allowed.includes(origin)) {
    throw new HttpError('forbidden_origin', 'cookie-authenticated requests that change state need an allowed Origin header');
  }
}
