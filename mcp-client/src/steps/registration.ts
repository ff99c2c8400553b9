/**
 * Step 4: obtain a client_id (MCP Client Registration), in the spec's priority order:
 * pre-registered → Client ID Metadata Document → (stored) Dynamic Client Registration → ask the user.
 */
import * as oauth from 'oauth4webapi';
import { FlowError, messageOf } from '../errors.ts';
import { oauthOptions } from '../oauth-options.ts';
import type { StepContext } from '../step-context.ts';
import type { StoredRegistration, TokenStore } from '../store.ts';

export type RegistrationMethod = 'pre-registered' | 'configured' | 'cimd' | 'dcr' | 'stored-dcr';

export interface ClientRegistration {
  readonly method: RegistrationMethod;
  readonly client_id: string;
  readonly client_secret?: string;
  readonly token_endpoint_auth_method: string;
}

export interface RegistrationInput {
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** An https URL hosting this client's metadata document (draft-ietf-oauth-client-id-metadata-document). */
  readonly clientMetadataUrl?: string;
  /** The redirect URI to register; loopback without a port (RFC 8252 §7.3: any port is accepted at runtime). */
  readonly redirectUri: string;
  readonly clientName?: string;
}

/** Chooses token endpoint authentication for a client with a secret from what the AS supports. */
function secretMethod(as: oauth.AuthorizationServer): string {
  const supported = as.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  return supported.includes('client_secret_basic') ? 'client_secret_basic' : 'client_secret_post';
}

/** Checks a CIMD client_id: an https URL with a path (MCP Client Registration: CIMD Implementation Requirements). */
export function validClientMetadataUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.pathname !== '/' && u.pathname !== '' && !u.hash;
  } catch {
    return false;
  }
}

export async function register(
  ctx: StepContext,
  as: oauth.AuthorizationServer,
  store: TokenStore,
  input: RegistrationInput,
): Promise<ClientRegistration> {
  if (input.clientId !== undefined) {
    ctx.record({ name: 'pre-registered client', ok: true, detail: `--client-id ${input.clientId}` });
    return {
      method: 'pre-registered',
      client_id: input.clientId,
      ...(input.clientSecret !== undefined ? { client_secret: input.clientSecret } : {}),
      token_endpoint_auth_method: input.clientSecret !== undefined ? secretMethod(as) : 'none',
    };
  }
  const configured = await store.getConfiguredClient(as.issuer);
  if (configured) {
    ctx.record({ name: 'pre-registered client', ok: true, detail: `configured for ${as.issuer}: ${configured.client_id}` });
    return {
      method: 'configured',
      client_id: configured.client_id,
      ...(configured.client_secret !== undefined ? { client_secret: configured.client_secret } : {}),
      token_endpoint_auth_method: configured.client_secret !== undefined ? secretMethod(as) : 'none',
    };
  }
  const cimdSupported = as.client_id_metadata_document_supported === true;
  ctx.record({
    name: 'Client ID Metadata Documents',
    ok: true,
    detail: `${cimdSupported ? 'supported' : 'not supported'} by the authorization server; ${input.clientMetadataUrl ? `--client-metadata-url ${input.clientMetadataUrl}` : 'no --client-metadata-url given'}`,
  });
  if (cimdSupported && input.clientMetadataUrl !== undefined) {
    ctx.check(
      'client metadata URL is https with a path',
      validClientMetadataUrl(input.clientMetadataUrl),
      input.clientMetadataUrl,
      'a CIMD client_id must be an https URL with a path, e.g. https://example.com/client.json',
    );
    return { method: 'cimd', client_id: input.clientMetadataUrl, token_endpoint_auth_method: 'none' };
  }
  const stored = await store.getRegistration(as.issuer);
  if (stored) {
    ctx.record({ name: 'stored dynamic registration', ok: true, detail: `client_id ${stored.client_id} registered ${stored.registered_at}` });
    return {
      method: 'stored-dcr',
      client_id: stored.client_id,
      ...(stored.client_secret !== undefined ? { client_secret: stored.client_secret } : {}),
      token_endpoint_auth_method: stored.token_endpoint_auth_method,
    };
  }
  if (as.registration_endpoint === undefined) {
    throw new FlowError(`the authorization server ${as.issuer} supports neither Client ID Metadata Documents nor Dynamic Client Registration`, {
      hint: cimdSupported
        ? 'pass --client-metadata-url <https URL of your client metadata document>, or --client-id (and --client-secret) of a client registered there'
        : 'pass --client-id (and --client-secret for a confidential client) of a client registered at that authorization server',
    });
  }
  const metadata = {
    client_name: input.clientName ?? 'mcp-lab-client',
    application_type: 'native',
    redirect_uris: [input.redirectUri],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  };
  let registered: Awaited<ReturnType<typeof oauth.processDynamicClientRegistrationResponse>>;
  try {
    const response = await oauth.dynamicClientRegistrationRequest(as, metadata, oauthOptions(ctx, as.registration_endpoint));
    registered = await processRegistration(ctx, response);
  } catch (cause) {
    throw new FlowError(`dynamic client registration at ${as.registration_endpoint} failed: ${describeOauthError(cause)}`, {
      hint: 'the authorization server refused to register this client; pass --client-id of a pre-registered client instead',
      cause,
    });
  }
  const reg: StoredRegistration = {
    issuer: as.issuer,
    client_id: registered.client_id,
    ...(typeof registered.client_secret === 'string' ? { client_secret: registered.client_secret } : {}),
    // The AS may assign another method than the one asked for (RFC 7591 §3.2.1); use what it registered.
    token_endpoint_auth_method:
      typeof registered.token_endpoint_auth_method === 'string'
        ? registered.token_endpoint_auth_method
        : typeof registered.client_secret === 'string'
          ? secretMethod(as)
          : 'none',
    redirect_uris: metadata.redirect_uris,
    registered_at: new Date().toISOString(),
  };
  await store.putRegistration(reg);
  ctx.record({ name: 'dynamic client registration', ok: true, detail: `client_id ${reg.client_id} (application_type native, public client)` });
  return {
    method: 'dcr',
    client_id: reg.client_id,
    ...(reg.client_secret !== undefined ? { client_secret: reg.client_secret } : {}),
    token_endpoint_auth_method: reg.token_endpoint_auth_method,
  };
}

/**
 * oauth4webapi's strict processing of an RFC 7591 §3.2.1 response, with one tolerance: a `client_secret`
 * without `client_secret_expires_at` (REQUIRED with a secret) is read as "does not expire" and shown as a failed,
 * non-fatal check. The member only tells when to re-register; accepting its absence changes nothing about
 * what the client sends or trusts.
 */
async function processRegistration(ctx: StepContext, response: Response): Promise<Awaited<ReturnType<typeof oauth.processDynamicClientRegistrationResponse>>> {
  const copy = response.clone();
  try {
    return await oauth.processDynamicClientRegistrationResponse(response);
  } catch (err) {
    const body: unknown = await copy.json().catch(() => undefined);
    if (
      !(err instanceof oauth.OperationProcessingError) ||
      typeof body !== 'object' ||
      body === null ||
      typeof (body as Record<string, unknown>).client_secret !== 'string' ||
      (body as Record<string, unknown>).client_secret_expires_at !== undefined
    ) {
      throw err;
    }
    ctx.record({ name: 'client_secret_expires_at present (RFC 7591 §3.2.1)', ok: false, detail: 'absent; treating the secret as non-expiring' });
    const patched = new Response(JSON.stringify({ ...body, client_secret_expires_at: 0 }), { status: copy.status, headers: copy.headers });
    return oauth.processDynamicClientRegistrationResponse(patched);
  }
}

/** An oauth4webapi error in words, including the server's OAuth error code when there is one. */
export function describeOauthError(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError) {
    return `${err.error}${err.error_description ? `: ${err.error_description}` : ''} (HTTP ${err.status})`;
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    return `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`;
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    return `${err.message} (HTTP ${err.status})`;
  }
  return messageOf(err);
}

/** The oauth4webapi client authentication for a registration. */
export function clientAuth(reg: ClientRegistration): oauth.ClientAuth {
  switch (reg.token_endpoint_auth_method) {
    case 'client_secret_basic':
      return clientSecretBasic(reg.client_secret ?? '');
    case 'client_secret_post':
      return oauth.ClientSecretPost(reg.client_secret ?? '');
    default:
      return oauth.None();
  }
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * client_secret_basic (RFC 6749 §2.3.1): id and secret form-urlencoded, then HTTP Basic. The WHATWG
 * application/x-www-form-urlencoded serializer is used rather than oauth4webapi's, which also escapes
 * "-_.!~*'()": both decode to the same values at a conforming server, but only the WHATWG form reaches servers
 * that compare the Basic credentials without decoding them (seen in the MCP conformance suite's AS).
 */
function clientSecretBasic(secret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    headers.set('authorization', `Basic ${btoa(`${formEncode(client.client_id)}:${formEncode(secret)}`)}`);
  };
}
