/**
 * Step 7: the token request (OAuth 2.1 §4.1.3) with code_verifier and the RFC 8707 resource, and the refresh
 * grant (OAuth 2.1 §4.3), also with the resource.
 */
import * as oauth from 'oauth4webapi';
import { FlowError } from '../errors.ts';
import { oauthOptions } from '../oauth-options.ts';
import { redactToken } from '../redact.ts';
import type { StepContext } from '../step-context.ts';
import type { StoredTokens } from '../store.ts';
import { clientAuth, describeOauthError, type ClientRegistration } from './registration.ts';

export interface TokenRequestBase {
  readonly as: oauth.AuthorizationServer;
  readonly client: ClientRegistration;
  readonly resource: string;
}

function toStored(base: TokenRequestBase, res: oauth.TokenEndpointResponse, requested: readonly string[], previousRefresh?: string): StoredTokens {
  const refresh = res.refresh_token ?? previousRefresh;
  return {
    issuer: base.as.issuer,
    client_id: base.client.client_id,
    resource: base.resource,
    access_token: res.access_token,
    token_type: res.token_type,
    ...(refresh !== undefined ? { refresh_token: refresh } : {}),
    ...(typeof res.expires_in === 'number' ? { expires_at: Date.now() + res.expires_in * 1000 } : {}),
    ...(typeof res.scope === 'string' ? { scope: res.scope } : {}),
    requested_scope: [...requested],
  };
}

/** What a step event may show of a token response. */
export function describeTokens(t: StoredTokens): Record<string, unknown> {
  return {
    access_token: redactToken(t.access_token),
    token_type: t.token_type,
    refresh_token: t.refresh_token ? redactToken(t.refresh_token) : undefined,
    expires_at: t.expires_at ? new Date(t.expires_at).toISOString() : undefined,
    scope: t.scope,
  };
}

function checkTokenResponse(ctx: StepContext, res: oauth.TokenEndpointResponse): void {
  ctx.check('token_type is Bearer', res.token_type.toLowerCase() === 'bearer', res.token_type);
  ctx.record({ name: 'refresh token issued', ok: true, detail: res.refresh_token ? 'yes' : 'no (the AS decides; a new login will be needed when the token expires)' });
}

export async function exchangeCode(
  ctx: StepContext,
  base: TokenRequestBase,
  params: URLSearchParams,
  redirectUri: string,
  codeVerifier: string,
  requested: readonly string[],
): Promise<StoredTokens> {
  let res: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      base.as,
      { client_id: base.client.client_id },
      clientAuth(base.client),
      params,
      redirectUri,
      codeVerifier,
      { ...oauthOptions(ctx, base.as.token_endpoint), additionalParameters: { resource: base.resource } },
    );
    res = await oauth.processAuthorizationCodeResponse(base.as, { client_id: base.client.client_id }, response);
  } catch (cause) {
    throw new FlowError(`token request failed: ${describeOauthError(cause)}`, {
      hint: 'the authorization server did not issue a token for this code; try again',
      cause,
    });
  }
  ctx.record({ name: 'code_verifier and resource sent', ok: true, detail: base.resource });
  checkTokenResponse(ctx, res);
  return toStored(base, res, requested);
}

export async function refreshTokens(ctx: StepContext, base: TokenRequestBase, current: StoredTokens): Promise<StoredTokens> {
  if (!current.refresh_token) throw new FlowError('no refresh token stored');
  let res: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.refreshTokenGrantRequest(
      base.as,
      { client_id: base.client.client_id },
      clientAuth(base.client),
      current.refresh_token,
      { ...oauthOptions(ctx, base.as.token_endpoint), additionalParameters: { resource: base.resource } },
    );
    res = await oauth.processRefreshTokenResponse(base.as, { client_id: base.client.client_id }, response);
  } catch (cause) {
    throw new FlowError(`refresh failed: ${describeOauthError(cause)}`, { hint: 'a new authorization is needed', cause });
  }
  ctx.record({ name: 'refresh with resource', ok: true, detail: base.resource });
  checkTokenResponse(ctx, res);
  return toStored(base, res, current.requested_scope, current.refresh_token);
}
