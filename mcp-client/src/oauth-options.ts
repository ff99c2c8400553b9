/**
 * oauth4webapi request options: the step's recording fetch, and plain http allowed only for loopback endpoints
 * (every endpoint was already checked with isSecureOrLoopback before it gets here).
 */
import * as oauth from 'oauth4webapi';
import { isSecureOrLoopback } from './loopback.ts';
import type { StepContext } from './step-context.ts';

export interface OauthRequestOptions {
  [oauth.customFetch]: (url: string, options: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;
  [oauth.allowInsecureRequests]?: boolean;
}

/** Options for a request to `endpoint`; http is allowed only when the endpoint is on loopback. */
export function oauthOptions(ctx: StepContext, endpoint: string | undefined): OauthRequestOptions {
  const insecure = endpoint !== undefined && new URL(endpoint).protocol === 'http:' && isSecureOrLoopback(endpoint);
  return {
    [oauth.customFetch]: (url, options) => ctx.fetch(url, options as RequestInit),
    ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}),
  };
}
