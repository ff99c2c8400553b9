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

/**
 * Obtains a client_id in the MCP Client Registration priority order: pre-registered (`--client-id`, then one
 * configured for the issuer) → Client ID Metadata Document → stored Dynamic Client Registration → a new one
 * (RFC 7591), which is stored.
 * @throws FlowError when the AS offers neither CIMD nor DCR, or refuses the registration.
 */
export async function register(
  ctx: StepContext,
  as: oauth.AuthorizationServer,
  store: TokenStore,
  input: RegistrationInput,
): Promise<ClientRegistration> {
  return (
    (await preRegistered(ctx, as, store, input)) ??
    metadataDocumentClient(ctx, as, input) ??
    (await storedRegistration(ctx, as, store)) ??
    (await dynamicRegistration(ctx, as, store, input))
  );
}

/** A client given with `--client-id`, else one configured for this issuer; undefined when neither. */
async function preRegistered(
  ctx: StepContext,
  as: oauth.AuthorizationServer,
  store: TokenStore,
  input: RegistrationInput,
): Promise<ClientRegistration | undefined> {
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
  if (!configured) return undefined;
  ctx.record({ name: 'pre-registered client', ok: true, detail: `configured for ${as.issuer}: ${configured.client_id}` });
  return {
    method: 'configured',
    client_id: configured.client_id,
    ...(configured.client_secret !== undefined ? { client_secret: configured.client_secret } : {}),
    token_endpoint_auth_method: configured.client_secret !== undefined ? secretMethod(as) : 'none',
  };
}

/** The `--client-metadata-url` as client_id when the AS supports CIMD (recorded either way); else undefined. */
function metadataDocumentClient(
  ctx: StepContext,
  as: oauth.AuthorizationServer,
  input: RegistrationInput,
): ClientRegistration | undefined {
  const cimdSupported = as.client_id_metadata_document_supported === true;
  ctx.record({
    name: 'Client ID Metadata Documents',
    ok: true,
    detail: `${cimdSupported ? 'supported' : 'not supported'} by the authorization server; ${input.clientMetadataUrl ? `--client-metadata-url ${input.clientMetadataUrl}` : 'no --client-metadata-url given'}`,
  });
  if (!cimdSupported || input.clientMetadataUrl === undefined) return undefined;
  ctx.check(
    'client metadata URL is https with a path',
    validClientMetadataUrl(input.clientMetadataUrl),
    input.clientMetadataUrl,
    'a CIMD client_id must be an https URL with a path, e.g. https://example.com/client.json',
  );
  return { method: 'cimd', client_id: input.clientMetadataUrl, token_endpoint_auth_method: 'none' };
}

/** A dynamic registration stored earlier for this issuer; undefined when none. */
async function storedRegistration(
  ctx: StepContext,
  as: oauth.AuthorizationServer,
  store: TokenStore,
): Promise<ClientRegistration | undefined> {
  const stored = await store.getRegistration(as.issuer);
  if (!stored) return undefined;
  ctx.record({ name: 'stored dynamic registration', ok: true, detail: `client_id ${stored.client_id} registered ${stored.registered_at}` });
  return {
    method: 'stored-dcr',
    client_id: stored.client_id,
    ...(stored.client_secret !== undefined ? { client_secret: stored.client_secret } : {}),
    token_endpoint_auth_method: stored.token_endpoint_auth_method,
  };
}

/** Registers a native public client (RFC 7591 §3) and stores the registration for the next run. */
async function dynamicRegistration(
  ctx: StepContext,
  as: oauth.AuthorizationServer,
  store: TokenStore,
  input: RegistrationInput,
): Promise<ClientRegistration> {
  if (as.registration_endpoint === undefined) {
    const cimdSupported = as.client_id_metadata_document_supported === true;
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
  const registered = await requestRegistration(ctx, as, as.registration_endpoint, metadata);
  const reg = storedForm(as, registered, metadata.redirect_uris);
  await store.putRegistration(reg);
  ctx.record({ name: 'dynamic client registration', ok: true, detail: `client_id ${reg.client_id} (application_type native, public client)` });
  return {
    method: 'dcr',
    client_id: reg.client_id,
    ...(reg.client_secret !== undefined ? { client_secret: reg.client_secret } : {}),
    token_endpoint_auth_method: reg.token_endpoint_auth_method,
  };
}

type RegistrationResponse = Awaited<ReturnType<typeof oauth.processDynamicClientRegistrationResponse>>;

/** Sends the registration request; a refusal or a malformed answer becomes one FlowError. */
async function requestRegistration(
  ctx: StepContext,
  as: oauth.AuthorizationServer,
  endpoint: string,
  metadata: Partial<oauth.OmitSymbolProperties<oauth.Client>>,
): Promise<RegistrationResponse> {
  try {
    const response = await oauth.dynamicClientRegistrationRequest(as, metadata, oauthOptions(ctx, endpoint));
    return await processRegistration(ctx, response);
  } catch (cause) {
    throw new FlowError(`dynamic client registration at ${endpoint} failed: ${describeOauthError(cause)}`, {
      hint: 'the authorization server refused to register this client; pass --client-id of a pre-registered client instead',
      cause,
    });
  }
}

/** What is stored of a registration response. */
function storedForm(as: oauth.AuthorizationServer, registered: RegistrationResponse, redirectUris: string[]): StoredRegistration {
  return {
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
    redirect_uris: redirectUris,
    registered_at: new Date().toISOString(),
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
