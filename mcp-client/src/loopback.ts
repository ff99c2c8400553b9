/**
 * Communication security (OAuth 2.1 §1.5, MCP security considerations): authorization server endpoints are
 * https, except on a loopback host, which this lab runs on.
 */

/** 127.0.0.0/8, ::1 and localhost (RFC 8252 §7.3, RFC 6761 §6.3). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Whether an endpoint URL may be used: https anywhere, http only on loopback. */
export function isSecureOrLoopback(url: string | URL): boolean {
  const u = new URL(url);
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && isLoopbackHost(u.hostname);
}
