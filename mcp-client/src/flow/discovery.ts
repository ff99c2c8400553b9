/**
 * resource-metadata → as-metadata (or, when the server has no PRM at all, the deprecated legacy-discovery) →
 * registration, then a token (stored, refreshed or new) — MCP Authorization: Authorization Server Discovery,
 * Client Registration. Runs after the probe's 401, or later when the server refuses a token or an operation.
 */
import { canonicalResource } from '@mcp-lab/protocol';
import type * as oauth from 'oauth4webapi';
import { FlowError } from '../errors.ts';
import type { StoredTokens } from '../store.ts';
import { discoverAuthorizationServer } from '../steps/as-metadata.ts';
import { discoverLegacyAuthorizationServer } from '../steps/legacy-discovery.ts';
import { register, type ClientRegistration } from '../steps/registration.ts';
import { ResourceMetadataNotFoundError, discoverResourceMetadata, type ResourceMetadataResult } from '../steps/resource-metadata.ts';
import { nextAfterGrantFailure } from './next-action.ts';
import { initialTokens } from './tokens.ts';
import { DEFAULT_REDIRECT_URI, type AuthContext, type Authorized, type FlowRun, type StepData } from './types.ts';

/** Where discovery starts: the resource server's challenge (RFC 9728 §5.1) and the scope it asked for. */
export interface DiscoveryStart {
  readonly resourceMetadataUrl: string | undefined;
  readonly challengeScope: readonly string[] | undefined;
}

/**
 * Discovers, registers and obtains a token. `rejected` is a stored token the server just refused on the warm
 * path: when discovery leads back to it, it is returned as it is and the caller answers the refusal.
 */
export async function discover(run: FlowRun, serverUrl: string, start: DiscoveryStart, rejected?: StoredTokens): Promise<Authorized> {
  const prm = await resourceMetadata(run, serverUrl, start.resourceMetadataUrl);
  const as = prm ? await asMetadata(run, prm.issuer) : await legacyDiscovery(run, serverUrl);
  // RFC 8707 resource: the PRM's `resource` exactly as published; the server URL only without PRM (legacy).
  const base = { as, resource: prm?.resource ?? canonicalResource(serverUrl), challengeScope: start.challengeScope, prmScopes: prm?.metadata.scopes_supported };
  const first: AuthContext = { ...base, client: await registration(run, as) };
  try {
    return { auth: first, tokens: await initialTokens(run, first, rejected) };
  } catch (err) {
    if (!(err instanceof FlowError)) throw err;
    const recovery = nextAfterGrantFailure(err.code, { storedRegistration: first.client.method === 'stored-dcr', registeredAgain: false, addedOfflineAccess: false });
    if (recovery !== 'register-again') throw err;
    run.opts.observer.diagnostic({ level: 'warn', message: `the authorization server no longer knows client ${first.client.client_id}; registering again` });
    await run.opts.store.forgetRegistration(as.issuer);
    const again: AuthContext = { ...base, client: await registration(run, as) };
    return { auth: again, tokens: await initialTokens(run, again, rejected) };
  }
}

/**
 * PRM discovery. Returns undefined only when the server has no PRM at all (no resource_metadata in its
 * challenge, 404 at every well-known URI): the one case that continues with the deprecated legacy-discovery
 * step. A PRM document that exists but fails a check (resource mismatch, no authorization_servers, invalid
 * JSON), a challenge URL that fails, or a 5xx/network error refuses as before.
 */
async function resourceMetadata(run: FlowRun, serverUrl: string, resourceMetadataUrl: string | undefined): Promise<ResourceMetadataResult | undefined> {
  const legacyAllowed = (err: FlowError) => err instanceof ResourceMetadataNotFoundError && err.legacyFallbackAllowed;
  try {
    return await run.step('resource-metadata', async (ctx) => {
      const r = await discoverResourceMetadata(ctx, serverUrl, resourceMetadataUrl);
      const m = r.metadata;
      return [r, { url: r.url, via: r.via, resource: m.resource, authorization_servers: m.authorization_servers, scopes_supported: m.scopes_supported, issuer: r.issuer }];
    }, (err) => (legacyAllowed(err) ? { next: 'legacy-discovery' } : {}));
  } catch (err) {
    if (err instanceof FlowError && legacyAllowed(err)) return undefined;
    throw err;
  }
}

function asMetadata(run: FlowRun, issuer: string): Promise<oauth.AuthorizationServer> {
  return run.step('as-metadata', async (ctx) => {
    const r = await discoverAuthorizationServer(ctx, issuer);
    return [r.as, { url: r.url, ...describeAs(r.as) }];
  });
}

function legacyDiscovery(run: FlowRun, serverUrl: string): Promise<oauth.AuthorizationServer> {
  return run.step('legacy-discovery', async (ctx) => {
    const r = await discoverLegacyAuthorizationServer(ctx, serverUrl);
    return [r.as, {
      deprecated: 'MCP 2025-03-26 authorization discovery: the server publishes no Protected Resource Metadata',
      authorization_base_url: r.authorizationBaseUrl,
      metadata_url: r.metadataUrl,
      source: r.source,
      ...describeAs(r.as),
    }];
  });
}

function registration(run: FlowRun, as: oauth.AuthorizationServer): Promise<ClientRegistration> {
  const o = run.opts;
  return run.step('registration', async (ctx) => {
    const r = await register(ctx, as, o.store, {
      ...(o.clientId !== undefined ? { clientId: o.clientId } : {}),
      ...(o.clientSecret !== undefined ? { clientSecret: o.clientSecret } : {}),
      ...(o.clientMetadataUrl !== undefined ? { clientMetadataUrl: o.clientMetadataUrl } : {}),
      redirectUri: o.registeredRedirectUri ?? DEFAULT_REDIRECT_URI,
    });
    return [r, { method: r.method, client_id: r.client_id, token_endpoint_auth_method: r.token_endpoint_auth_method }];
  });
}

/** What the discovery steps show of the authorization server metadata they settled on. */
function describeAs(as: oauth.AuthorizationServer): StepData {
  return {
    issuer: as.issuer,
    authorization_endpoint: as.authorization_endpoint,
    token_endpoint: as.token_endpoint,
    registration_endpoint: as.registration_endpoint,
    code_challenge_methods_supported: as.code_challenge_methods_supported,
    scopes_supported: as.scopes_supported,
    authorization_response_iss_parameter_supported: as.authorization_response_iss_parameter_supported,
    client_id_metadata_document_supported: as.client_id_metadata_document_supported,
  };
}
