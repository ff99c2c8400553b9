import { errors, type Client, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { IdpConfig } from './config.ts';

type ResourceIndicatorsFeature = {
  enabled: true;
  getResourceServerInfo(ctx: KoaContextWithOIDC, resourceIndicator: string, client: Client): ResourceServer;
  defaultResource(ctx: KoaContextWithOIDC, client: Client, oneOf?: readonly string[]): string | readonly string[] | undefined;
  useGrantedResource(): boolean;
};

/**
 * RFC 8707 policy: only the configured resources are valid targets (anything else is `invalid_target`, §2), every
 * authorization request must name one, and the access token for it is an RFC 9068 JWT (RS256, `typ: at+jwt`) whose
 * `aud` is the resource indicator itself and whose `scope` is limited to the configured resource scopes.
 */
export function resourceIndicators(config: IdpConfig): ResourceIndicatorsFeature {
  const allowed = new Set(config.resources);
  const scope = config.scopes.join(' ');
  return {
    enabled: true,
    getResourceServerInfo(_ctx, resourceIndicator) {
      if (!allowed.has(resourceIndicator)) {
        throw new errors.InvalidTarget(`resource indicator ${resourceIndicator} is not served by this authorization server`);
      }
      return {
        scope,
        audience: resourceIndicator,
        accessTokenTTL: config.accessTokenTtlS,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      };
    },
    defaultResource(ctx, _client, oneOf) {
      if (oneOf !== undefined) return oneOf;
      // MCP (2026-07-28, Resource Parameter Implementation) requires `resource` in authorization requests; refusing
      // a request without one keeps every token audience-restricted.
      if (ctx.oidc.route === 'authorization' || ctx.oidc.route === 'pushed_authorization_request') {
        throw new errors.InvalidTarget('the resource parameter (RFC 8707) is required');
      }
      return undefined;
    },
    // A token request that omits `resource` gets a token for the single resource that was granted, never an
    // audience-less token for the userinfo endpoint.
    useGrantedResource: () => true,
  };
}
