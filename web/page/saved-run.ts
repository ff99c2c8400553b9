/**
 * What survives the top-level navigation to the authorization server and back: the per-request record
 * (state, PKCE verifier, expected issuer), the validated metadata, the registration and the events so far. Kept
 * in sessionStorage (this tab only), read once and deleted at the callback. No token is ever stored.
 */
import type * as oauth from 'oauth4webapi';
import type { StepEvent, PendingAuthorization, ClientRegistration } from 'mcp-lab-client/browser';

export interface SavedRun {
  readonly events: readonly StepEvent[];
  readonly as: oauth.AuthorizationServer;
  readonly client: ClientRegistration;
  readonly pending: Omit<PendingAuthorization, 'authorizationUrl'> & { readonly authorizationUrl: string };
}

const KEY = 'mcp-lab-run';

export function saveRun(run: SavedRun): void {
  sessionStorage.setItem(KEY, JSON.stringify(run));
}

/** The saved run, removed from storage: a callback URL can be used once. */
export function takeRun(): SavedRun | undefined {
  const text = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  if (text === null) return undefined;
  return JSON.parse(text) as SavedRun;
}
