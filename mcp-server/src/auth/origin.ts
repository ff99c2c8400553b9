/**
 * Origin checks: DNS-rebinding protection for MCP endpoints (MCP transports spec: servers MUST validate
 * `Origin`; `Host` is checked too, since a rebound page's requests name the attacker's host) and CSRF protection
 * for cookie-authenticated state changes.
 */
import { hostValue } from '../config.ts';
import type { RsConfig } from '../config.ts';
import { HttpError } from '../http-error.ts';

/**
 * @throws HttpError 403 forbidden_host when the `Host` header names neither an allowed `host:port` nor an allowed
 *   host name (an entry without a port allows every port).
 */
export function checkHost(host: string | undefined, allowed: readonly string[]): void {
  // HTTP/1.1 without Host is refused by Node itself (400); an absent one here is HTTP/1.0, which has no rebinding.
  if (host === undefined) return;
  const value = hostValue(host);
  const name = value?.replace(/:\d+$/, '');
  if (value !== undefined && (allowed.includes(value) || (name !== undefined && allowed.includes(name)))) return;
  throw new HttpError('forbidden_host', `host ${JSON.stringify(host)} is not allowed`);
}

/** @throws HttpError 403 when an Origin header is present and not allowed. */
export function checkOrigin(origin: string | undefined, allowed: readonly string[]): void {
  if (origin !== undefined && !allowed.includes(origin)) {
    throw new HttpError('forbidden_origin', `origin ${JSON.stringify(origin)} is not allowed`);
  }
}

/**
 * An `onRequest` hook that refuses a request whose `Host` is not allowed (see checkHost) or whose `Origin` header
 * is present and not allowed (see checkOrigin); one per route plugin, shared by every MCP and session endpoint.
 */
export function rejectForeignOrigin(config: Pick<RsConfig, 'allowedOrigins' | 'allowedHosts'>) {
  const { allowedOrigins, allowedHosts } = config;
  return async function rejectForeignOrigin(request: { headers: { origin?: string; host?: string } }): Promise<void> {
    checkHost(request.headers.host, allowedHosts);
    checkOrigin(request.headers.origin, allowedOrigins);
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
