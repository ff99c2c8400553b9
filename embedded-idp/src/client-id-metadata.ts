/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, MCP 2026-07-28 Client
 * Registration): a client_id that is an https URL names a JSON document with the client's metadata, which the IdP
 * fetches (oidc-provider's `clientIdMetadataDocument` feature, draft-02) and advertises with
 * `client_id_metadata_document_supported: true`.
 *
 * oidc-provider fetches through an SSRF-guarded agent that refuses loopback and private addresses, which is right for
 * the open internet and would make the lab's own CIMD host (an https server on 127.0.0.1 with a self-signed
 * certificate) unreachable. `IDP_CIMD_TRUSTED_ORIGINS` names the only origins exempted, and `IDP_CIMD_CA_FILE` the
 * only extra certificates trusted for them; every other client_id URL keeps the guard and the system trust store.
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Client, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { IdpConfig } from './config.ts';

type Fetch = NonNullable<Configuration['fetch']>;

/** oidc-provider's `features.clientIdMetadataDocument`. */
export function clientIdMetadataDocumentFeature(config: IdpConfig) {
  return {
    enabled: true,
    // oidc-provider's acknowledgement of the experimental draft it implements.
    ack: 'draft-02',
    // https only (oidc-provider refuses any other client_id URL before asking); fetched at most once per cache period.
    allowFetch: async (_ctx: KoaContextWithOIDC, clientId: string) => {
      const u = URL.parse(clientId);
      // A loopback or private address outside IDP_CIMD_TRUSTED_ORIGINS is then refused by oidc-provider's SSRF guard.
      return u !== null && u.protocol === 'https:';
    },
    // Public clients only: a metadata document cannot carry a secret, and the lab issues none.
    allowClient: async (_ctx: KoaContextWithOIDC, client: Client) => client.clientAuthMethod === 'none',
    cacheDuration: { min: 30, max: 3600 },
  };
}

/**
 * oidc-provider's outgoing `fetch`: requests to a trusted lab origin go through an agent that trusts the lab's CA
 * (and, being loopback, is not the SSRF-guarded one); everything else keeps oidc-provider's options untouched.
 */
export function labFetch(config: IdpConfig): Fetch | undefined {
  if (config.cimdTrustedOrigins.length === 0) return undefined;
  const trusted = new Set(config.cimdTrustedOrigins);
  const ca = config.cimdCaFile === undefined ? undefined : readFileSync(config.cimdCaFile, 'utf8');
  const labAgent = new Agent(ca === undefined ? {} : { connect: { ca } });
  return async function idpFetch(input, init) {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (trusted.has(url.origin)) {
      const { dispatcher: _guarded, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      // undici's fetch returns undici's Response; oidc-provider only reads status, headers and the body stream.
      return (await undiciFetch(url, { ...(rest as object), dispatcher: labAgent })) as unknown as Response;
    }
    return fetch(input, init);
  };
}

