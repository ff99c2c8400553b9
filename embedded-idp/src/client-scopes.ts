/**
 * Which scopes a client may ask for, and what an authorization request without `scope` means.
 *
 * MCP clients register (RFC 7591) before they know every scope they will need: the official SDKs send the first
 * challenge's `scope` (e.g. `notes:read`) as their registered `scope`. oidc-provider then treats it as an allow-list
 * and answers the later step-up request for `notes:read notes:write` with `invalid_scope`. RFC 7591 §3.2.1 lets the
 * authorization server replace requested metadata with suitable values, so a registered `scope` is widened to every
 * scope this IdP serves (the resource scopes the RS advertises, plus the built-in OIDC ones). What a user is finally
 * granted is still decided per request, by the requested scopes.
 */
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { Middleware } from 'koa';
import { OIDC_SCOPES, type IdpConfig } from './config.ts';

/** oidc-provider's `extraClientMetadata`: the documented hook that may rewrite client metadata at construction. */
export function clientScopePolicy(config: IdpConfig): NonNullable<Configuration['extraClientMetadata']> {
  const served = [...OIDC_SCOPES, ...config.scopes];
  return {
    properties: ['scope'],
    validator(_ctx: KoaContextWithOIDC | undefined, key: string, value: unknown, metadata: Record<string, unknown>) {
      // A client without `scope` is not restricted at all; one with a scope gets the union (unknown values stay in it,
      // so oidc-provider still refuses them with invalid_client_metadata).
      if (key !== 'scope' || typeof value !== 'string') return;
      metadata.scope = [...new Set([...value.split(' ').filter(Boolean), ...served])].join(' ');
    },
  };
}

/**
 * RFC 6749 §3.3: a request that omits `scope` is processed with the documented default (`IDP_DEFAULT_SCOPE`), never
 * answered with a bare `access_denied` after the sign-in. Applies to the front-channel authorization endpoint (GET,
 * the only method MCP clients use; a POSTed form without scope gets oidc-provider's own answer).
 */
export function defaultScope(authorizationPath: string, config: IdpConfig): Middleware {
  const scope = config.defaultScope.join(' ');
  return async function defaultScopeMiddleware(ctx, next) {
    if (ctx.path === authorizationPath && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      const params = new URLSearchParams(ctx.querystring);
      if ((params.get('scope') ?? '').trim() === '') {
        params.set('scope', scope);
        ctx.querystring = params.toString();
      }
    }
    return next();
  };
}
