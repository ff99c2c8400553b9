/**
 * RFC 9728 Protected Resource Metadata and RFC 8414 Authorization Server Metadata: accepted documents are
 * returned as they are; each broken member is refused with a MetadataError naming it.
 */
import { describe, expect, it } from 'vitest';
import { MetadataError, parseAuthorizationServerMetadata, parseProtectedResourceMetadata } from '../src/index.ts';

const PRM = {
  resource: 'http://127.0.0.1:3000/mcp',
  authorization_servers: ['http://127.0.0.1:4000'],
  scopes_supported: ['notes:read', 'notes:write'],
  bearer_methods_supported: ['header'],
  resource_name: 'mcp-lab notes',
};

const ASM = {
  issuer: 'http://127.0.0.1:4000',
  authorization_endpoint: 'http://127.0.0.1:4000/auth',
  token_endpoint: 'http://127.0.0.1:4000/token',
  jwks_uri: 'http://127.0.0.1:4000/jwks',
  registration_endpoint: 'http://127.0.0.1:4000/reg',
  scopes_supported: ['openid', 'notes:read'],
  response_types_supported: ['code'],
  grant_types_supported: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_methods_supported: ['none'],
  code_challenge_methods_supported: ['S256'],
  authorization_response_iss_parameter_supported: true,
};

/** Runs `fn`, expecting a MetadataError; returns it. */
function metadataError(fn: () => unknown): MetadataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MetadataError);
    expect((err as MetadataError).name).toBe('MetadataError');
    return err as MetadataError;
  }
  throw new Error('expected a MetadataError');
}

describe('parseProtectedResourceMetadata: accepted documents', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a full document', PRM],
    ['only the required resource', { resource: 'https://rs.example' }],
    ['a resource with a path', { resource: 'https://rs.example/tenant/mcp' }],
    ['extension members (kept)', { ...PRM, dpop_bound_access_tokens_required: false, 'x-custom': { a: 1 } }],
    ['empty arrays', { resource: 'https://rs.example', authorization_servers: [], scopes_supported: [] }],
    ['a jwks_uri', { ...PRM, jwks_uri: 'https://rs.example/jwks' }],
  ])('accepts %s, returned unchanged', (_name, doc) => {
    expect(parseProtectedResourceMetadata(doc)).toBe(doc);
    expect(parseProtectedResourceMetadata(structuredClone(doc))).toEqual(doc);
  });
});

describe('parseProtectedResourceMetadata: refused documents', () => {
  it.each<[string, unknown, string | undefined]>([
    ['null', null, undefined],
    ['an array', [PRM], undefined],
    ['a string', JSON.stringify(PRM), undefined],
    ['a missing resource', { authorization_servers: ['http://127.0.0.1:4000'] }, 'resource'],
    ['a numeric resource', { resource: 42 }, 'resource'],
    ['a relative resource', { resource: '/mcp' }, 'resource'],
    ['a resource that is not a URL', { resource: 'not a url' }, 'resource'],
    ['a resource with a fragment', { resource: 'https://rs.example/mcp#frag' }, 'resource'],
    ['a resource with an empty fragment', { resource: 'https://rs.example/mcp#' }, 'resource'],
    ['authorization_servers as a string', { ...PRM, authorization_servers: 'http://127.0.0.1:4000' }, 'authorization_servers'],
    ['authorization_servers holding a number', { ...PRM, authorization_servers: [4000] }, 'authorization_servers'],
    ['authorization_servers holding a relative URL', { ...PRM, authorization_servers: ['/as'] }, 'authorization_servers'],
    ['authorization_servers holding a fragment', { ...PRM, authorization_servers: ['https://as.example#x'] }, 'authorization_servers'],
    ['scopes_supported as a string', { ...PRM, scopes_supported: 'notes:read notes:write' }, 'scopes_supported'],
    ['scopes_supported holding null', { ...PRM, scopes_supported: ['notes:read', null] }, 'scopes_supported'],
    ['bearer_methods_supported as an object', { ...PRM, bearer_methods_supported: { header: true } }, 'bearer_methods_supported'],
    ['a jwks_uri that is not a URL', { ...PRM, jwks_uri: 'jwks' }, 'jwks_uri'],
    ['a jwks_uri that is not a string', { ...PRM, jwks_uri: ['https://rs.example/jwks'] }, 'jwks_uri'],
  ])('refuses %s', (_name, doc, field) => {
    expect(metadataError(() => parseProtectedResourceMetadata(doc)).field).toBe(field);
  });

  it('keeps the URL parser error as the cause', () => {
    const err = metadataError(() => parseProtectedResourceMetadata({ resource: 'nope' }));
    expect(err.cause).toBeInstanceOf(TypeError);
    expect(err.message).toContain('"resource" is not an absolute URL');
  });
});

describe('parseAuthorizationServerMetadata: accepted documents', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a full document', ASM],
    ['only the issuer', { issuer: 'https://as.example' }],
    ['an issuer with a path (Keycloak, Dex)', { issuer: 'http://127.0.0.1:8080/realms/mcp-lab' }],
    ['OIDC and extension members (kept)', { ...ASM, userinfo_endpoint: 'http://127.0.0.1:4000/me', client_id_metadata_document_supported: true, x: [1] }],
  ])('accepts %s, returned unchanged', (_name, doc) => {
    expect(parseAuthorizationServerMetadata(doc)).toBe(doc);
  });
});

describe('parseAuthorizationServerMetadata: refused documents', () => {
  it.each<[string, unknown, string | undefined]>([
    ['null', null, undefined],
    ['an array', [ASM], undefined],
    ['a missing issuer', { ...ASM, issuer: undefined }, 'issuer'],
    ['a numeric issuer', { ...ASM, issuer: 1 }, 'issuer'],
    ['an issuer that is not a URL', { ...ASM, issuer: 'as.example' }, 'issuer'],
    ['an issuer with a fragment', { ...ASM, issuer: 'https://as.example#x' }, 'issuer'],
    ['an issuer with a query (RFC 8414 §2)', { ...ASM, issuer: 'https://as.example?tenant=1' }, 'issuer'],
    ['an issuer with an empty query', { ...ASM, issuer: 'https://as.example/?' }, 'issuer'],
    ['a relative authorization_endpoint', { ...ASM, authorization_endpoint: '/auth' }, 'authorization_endpoint'],
    ['a numeric token_endpoint', { ...ASM, token_endpoint: 443 }, 'token_endpoint'],
    ['a jwks_uri with a fragment', { ...ASM, jwks_uri: 'https://as.example/jwks#k' }, 'jwks_uri'],
    ['a registration_endpoint that is not a URL', { ...ASM, registration_endpoint: 'register here' }, 'registration_endpoint'],
    ['scopes_supported as a string', { ...ASM, scopes_supported: 'openid' }, 'scopes_supported'],
    ['response_types_supported holding a number', { ...ASM, response_types_supported: ['code', 1] }, 'response_types_supported'],
    ['grant_types_supported as an object', { ...ASM, grant_types_supported: { authorization_code: true } }, 'grant_types_supported'],
    ['token_endpoint_auth_methods_supported as a string', { ...ASM, token_endpoint_auth_methods_supported: 'none' }, 'token_endpoint_auth_methods_supported'],
    ['code_challenge_methods_supported holding null', { ...ASM, code_challenge_methods_supported: [null] }, 'code_challenge_methods_supported'],
  ])('refuses %s', (_name, doc, field) => {
    expect(metadataError(() => parseAuthorizationServerMetadata(doc)).field).toBe(field);
  });
});
