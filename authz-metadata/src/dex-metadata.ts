import type { AuthorizationServerMetadata } from '@mcp-lab/protocol';

/**
 * The RFC 8414 §2 document Dex would publish if it had one, for a Dex whose issuer is `issuer`.
 *
 * Endpoints are Dex's own (issuer + /auth, /token, /keys, /userinfo), so clients talk to Dex unchanged through the
 * proxy. Deliberately absent: `registration_endpoint` (Dex has no RFC 7591 registration), `plain` PKCE (OAuth 2.1
 * and MCP require S256) and `authorization_response_iss_parameter_supported` (Dex sends no RFC 9207 `iss`).
 * `none` is listed because Dex's public clients authenticate at the token endpoint with client_id alone, which
 * Dex's own discovery document omits.
 */
export function dexAuthorizationServerMetadata(issuer: string): AuthorizationServerMetadata {
  const base = issuer.replace(/\/$/, '');
  return {
    issuer,
    authorization_endpoint: `${base}/auth`,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/keys`,
    userinfo_endpoint: `${base}/userinfo`,
    scopes_supported: ['openid', 'email', 'profile', 'offline_access', 'groups'],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: ['RS256'],
    subject_types_supported: ['public'],
    service_documentation: 'https://dexidp.io/docs/',
  };
}

/** The document as stored on disk: two-space JSON with a trailing newline. */
export function formatMetadataDocument(doc: AuthorizationServerMetadata): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
