/**
 * Metadata documents: RFC 9728 Protected Resource Metadata and RFC 8414 Authorization Server Metadata,
 * with RFC field names kept as they are on the wire, and the well-known URLs to find them.
 */

/** RFC 9728 §2. */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers?: readonly string[];
  readonly jwks_uri?: string;
  readonly scopes_supported?: readonly string[];
  readonly bearer_methods_supported?: readonly ('header' | 'body' | 'query')[];
  readonly resource_signing_alg_values_supported?: readonly string[];
  readonly resource_name?: string;
  readonly resource_documentation?: string;
  readonly [extension: string]: unknown;
}

/** RFC 8414 §2 (the members this lab reads), plus RFC 9207 and CIMD advertisement. */
export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly authorization_endpoint?: string;
  readonly token_endpoint?: string;
  readonly jwks_uri?: string;
  readonly registration_endpoint?: string;
  readonly scopes_supported?: readonly string[];
  readonly response_types_supported?: readonly string[];
  readonly grant_types_supported?: readonly string[];
  readonly token_endpoint_auth_methods_supported?: readonly string[];
  readonly code_challenge_methods_supported?: readonly string[];
  readonly authorization_response_iss_parameter_supported?: boolean;
  readonly client_id_metadata_document_supported?: boolean;
  readonly [extension: string]: unknown;
}

export class MetadataError extends Error {
  override readonly name = 'MetadataError';
  /** The member at fault, or undefined when the document as a whole is unusable. */
  readonly field: string | undefined;
  constructor(message: string, field?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.field = field;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function absoluteUrl(doc: Record<string, unknown>, field: string, required: boolean, noQuery = false): void {
  const v = doc[field];
  if (v === undefined && !required) return;
  if (typeof v !== 'string') throw new MetadataError(`"${field}" must be a string URL`, field);
  let u: URL;
  try {
    u = new URL(v);
  } catch (cause) {
    throw new MetadataError(`"${field}" is not an absolute URL: ${v}`, field, { cause });
  }
  if (u.hash || v.includes('#')) throw new MetadataError(`"${field}" must not have a fragment: ${v}`, field);
  if (noQuery && (u.search || v.includes('?'))) throw new MetadataError(`"${field}" must not have a query: ${v}`, field);
}

function stringArray(doc: Record<string, unknown>, field: string): void {
  const v = doc[field];
  if (v === undefined) return;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new MetadataError(`"${field}" must be an array of strings`, field);
  }
}

/** Checks the shape of an RFC 9728 document; unknown members are kept (the format is extensible). */
export function parseProtectedResourceMetadata(json: unknown): ProtectedResourceMetadata {
  if (!isRecord(json)) throw new MetadataError('protected resource metadata must be a JSON object');
  absoluteUrl(json, 'resource', true);
  stringArray(json, 'authorization_servers');
  stringArray(json, 'scopes_supported');
  stringArray(json, 'bearer_methods_supported');
  for (const as of (json.authorization_servers as string[] | undefined) ?? []) {
    absoluteUrl({ authorization_servers: as }, 'authorization_servers', true);
  }
  absoluteUrl(json, 'jwks_uri', false);
  return json as unknown as ProtectedResourceMetadata;
}

/** Checks the shape of an RFC 8414 / OIDC discovery document; the issuer comparison is the caller's. */
export function parseAuthorizationServerMetadata(json: unknown): AuthorizationServerMetadata {
  if (!isRecord(json)) throw new MetadataError('authorization server metadata must be a JSON object');
  // RFC 8414 §2: the issuer has no query or fragment component.
  absoluteUrl(json, 'issuer', true, true);
  for (const f of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'registration_endpoint']) {
    absoluteUrl(json, f, false);
  }
  for (const f of [
    'scopes_supported',
    'response_types_supported',
    'grant_types_supported',
    'token_endpoint_auth_methods_supported',
    'code_challenge_methods_supported',
  ]) {
    stringArray(json, f);
  }
  return json as unknown as AuthorizationServerMetadata;
}

/** Inserts a well-known suffix between the origin and the path (RFC 8414 §3.1, RFC 9728 §3.1). */
export function insertWellKnown(url: string | URL, suffix: string): string {
  const u = new URL(url);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return `${u.origin}/.well-known/${suffix}${path}`;
}

/**
 * Where an MCP client looks for Protected Resource Metadata when the challenge names none, in the order the
 * MCP spec gives: path-suffixed, then root (RFC 9728 §3.1).
 */
export function protectedResourceMetadataUrls(serverUrl: string | URL): string[] {
  const u = new URL(serverUrl);
  const root = `${u.origin}/.well-known/oauth-protected-resource`;
  const suffixed = insertWellKnown(u, 'oauth-protected-resource');
  return suffixed === root ? [root] : [suffixed, root];
}

/**
 * The authorization server metadata URLs to try, in MCP order: RFC 8414 path insertion, OIDC path insertion,
 * OIDC path appending (RFC 8414 §3.1 and §5).
 */
export function authorizationServerMetadataUrls(issuer: string | URL): string[] {
  const u = new URL(issuer);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  if (!path) {
    return [`${u.origin}/.well-known/oauth-authorization-server`, `${u.origin}/.well-known/openid-configuration`];
  }
  return [
    `${u.origin}/.well-known/oauth-authorization-server${path}`,
    `${u.origin}/.well-known/openid-configuration${path}`,
    `${u.origin}${path}/.well-known/openid-configuration`,
  ];
}
