import type { Middleware } from 'koa';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function sameOrigin(origin: string, redirectUri: string, loopbackAnyPort: boolean): boolean {
  const o = URL.parse(origin);
  const r = URL.parse(redirectUri);
  if (o === null || r === null) return false;
  if (o.origin === r.origin) return true;
  // RFC 8252 §7.3: a native client's loopback redirect may use any port, so may its browser origin.
  return loopbackAnyPort && o.protocol === r.protocol && o.hostname === r.hostname && LOOPBACK_HOSTS.has(o.hostname);
}

/**
 * oidc-provider's `clientBasedCORS` for the token, revocation and userinfo endpoints: a browser may call them for a
 * public client (no secret to leak) from the origin of one of its redirect URIs; confidential clients never from a
 * browser. Discovery and JWKS are open to every origin by oidc-provider itself.
 */
export function clientBasedCors(_ctx: KoaContextWithOIDC, origin: string, client: Client): boolean {
  if (origin === 'null' || client.clientAuthMethod !== 'none') return false;
  const native = client.applicationType === 'native';
  return (client.redirectUris ?? []).some((uri) => sameOrigin(origin, uri, native));
}

/**
 * CORS for open dynamic client registration (RFC 7591 §3), which oidc-provider leaves without CORS: any origin may
 * register (no credentials are involved), and preflights for `POST` with `content-type` are answered here.
 */
export function registrationCors(registrationPath: string): Middleware {
  return async function registrationCorsMiddleware(ctx, next) {
    if (ctx.path !== registrationPath) return next();
    const origin = ctx.get('Origin');
    if (origin === '') return next();
    ctx.vary('Origin');
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method') !== '') {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Methods', 'POST');
      ctx.set('Access-Control-Allow-Headers', 'content-type, authorization');
      ctx.set('Access-Control-Max-Age', '3600');
      ctx.status = 204;
      return;
    }
    await next();
    ctx.set('Access-Control-Allow-Origin', origin);
  };
}
