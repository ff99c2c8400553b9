/**
 * Step 6: validate the authorization response before the code goes anywhere (MCP Authorization Response
 * Validation; RFC 9207 §2.4; OAuth 2.1 §4.1.2 state). The table of the MCP spec:
 *
 *   iss advertised | iss present | action
 *   true           | yes         | compare (simple string comparison)
 *   true           | no          | reject
 *   false/absent   | yes         | compare
 *   false/absent   | no          | proceed
 *
 * oauth4webapi's validateAuthResponse applies exactly this, then state, and only then reads `error` — so on a
 * mismatch nothing of the response (error, error_description) is acted on or shown.
 */
import * as oauth from 'oauth4webapi';
import { FlowError, messageOf } from '../errors.ts';
import type { StepContext } from '../step-context.ts';
import type { PendingAuthorization } from './authorize.ts';

/** Returns the validated parameters, ready for the token request. */
export function validateCallback(
  ctx: StepContext,
  as: oauth.AuthorizationServer,
  clientId: string,
  pending: PendingAuthorization,
  callbackUrl: URL,
): URLSearchParams {
  const expected = new URL(pending.redirectUri);
  ctx.check('response arrived at the redirect_uri', callbackUrl.origin === expected.origin && callbackUrl.pathname === expected.pathname, `${callbackUrl.origin}${callbackUrl.pathname}`);
  const params = callbackUrl.searchParams;
  const iss = params.get('iss');
  const advertised = as.authorization_response_iss_parameter_supported === true;
  // The recorded issuer is the one from the validated metadata; this step re-checks it explicitly so the person
  // sees which row of the RFC 9207 table applied, then lets oauth4webapi enforce the same rules.
  if (iss !== null) {
    ctx.check('iss matches the recorded issuer (RFC 9207)', iss === pending.expectedIssuer, `iss ${JSON.stringify(iss)}, expected ${JSON.stringify(pending.expectedIssuer)}`, 'possible mix-up attack: the response claims to come from another authorization server');
  } else {
    ctx.check('iss present when advertised (RFC 9207)', !advertised, advertised ? 'authorization_response_iss_parameter_supported is true but iss is absent' : 'iss absent and not advertised: proceed');
  }
  const state = params.get('state');
  ctx.check('state matches', state === pending.state, state === null ? 'state missing' : state === pending.state ? 'equals the state sent' : 'differs from the state sent', 'the response does not belong to this authorization request; discarded');
  try {
    const validated = oauth.validateAuthResponse({ ...as, issuer: pending.expectedIssuer }, { client_id: clientId }, callbackUrl, pending.state);
    ctx.record({ name: 'authorization code received', ok: true });
    return validated;
  } catch (cause) {
    if (cause instanceof oauth.AuthorizationResponseError) {
      throw new FlowError(`the authorization server returned an error: ${cause.error}${cause.error_description ? ` (${cause.error_description})` : ''}`, {
        hint: cause.error === 'access_denied' ? 'the user or the authorization server denied the request' : 'see the error above; check scopes, resource and client registration',
        cause,
      });
    }
    throw new FlowError(`invalid authorization response: ${messageOf(cause)}`, { cause });
  }
}
