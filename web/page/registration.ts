/**
 * The page's client registration (MCP Client Registration order): a pre-registered public client, a Client ID
 * Metadata Document, or RFC 7591 dynamic registration as a `web` client whose redirect URI is this page's
 * /callback. A browser cannot keep a secret, so a confidential client is refused with the reason.
 */
import * as oauth from 'oauth4webapi';
import { FlowError, oauthOptions, type StepContext, describeOauthError, validClientMetadataUrl, type ClientRegistration } from 'mcp-lab-client/browser';
import type { PageConfig } from '../src/page-config.ts';

/** Thrown when this IdP, as configured, cannot serve a browser client at all; the page shows why. */
export class BrowserUnsupportedError extends FlowError {}

export async function registerPageClient(
  ctx: StepContext,
  as: oauth.AuthorizationServer,
  registration: PageConfig['registration'],
  redirectUri: string,
): Promise<ClientRegistration> {
  switch (registration.method) {
    case 'pre-registered':
      if (registration.confidential) {
        throw new BrowserUnsupportedError(`the pre-registered client ${registration.clientId} is confidential: a page cannot keep its secret`, {
          hint: 'register a public client (token_endpoint_auth_method none, PKCE) with this page’s redirect URI for browsers',
        });
      }
      ctx.record({ name: 'pre-registered client', ok: true, detail: `${registration.clientId} (public, PKCE)` });
      return { method: 'pre-registered', client_id: registration.clientId, token_endpoint_auth_method: 'none' };
    case 'cimd':
      ctx.check('authorization server supports Client ID Metadata Documents', as.client_id_metadata_document_supported === true, as.issuer);
      ctx.check('client metadata URL is https with a path', validClientMetadataUrl(registration.clientMetadataUrl), registration.clientMetadataUrl);
      return { method: 'cimd', client_id: registration.clientMetadataUrl, token_endpoint_auth_method: 'none' };
    case 'dcr': {
      if (as.registration_endpoint === undefined) {
        throw new BrowserUnsupportedError(`the authorization server ${as.issuer} offers no dynamic registration and the page has no client_id`, {
          hint: 'pre-register a public client for the page (WEB_CLIENT_ID)',
        });
      }
      const metadata = {
        client_name: 'mcp-lab browser client',
        application_type: 'web',
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      };
      let registered: oauth.OmitSymbolProperties<oauth.Client>;
      try {
        const response = await oauth.dynamicClientRegistrationRequest(as, metadata, oauthOptions(ctx, as.registration_endpoint));
        registered = await oauth.processDynamicClientRegistrationResponse(response);
      } catch (cause) {
        throw new FlowError(`dynamic client registration at ${as.registration_endpoint} failed: ${describeOauthError(cause)}`, { cause });
      }
      ctx.record({ name: 'dynamic client registration', ok: true, detail: `client_id ${registered.client_id} (application_type web, public client, redirect ${redirectUri})` });
      return { method: 'dcr', client_id: registered.client_id, token_endpoint_auth_method: 'none' };
    }
  }
}
