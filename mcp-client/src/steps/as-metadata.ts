/**
 * Step 3: authorization server metadata discovery (RFC 8414 §3, OpenID Connect Discovery §4; MCP order from
 * Authorization Server Discovery), with the checks the MCP spec makes mandatory before any authorization.
 */
import * as oauth from 'oauth4webapi';
import { MetadataError, authorizationServerMetadataUrls, parseAuthorizationServerMetadata } from '@mcp-lab/protocol';
import { FlowError, messageOf } from '../errors.ts';
import { isSecureOrLoopback } from '../loopback.ts';
import type { StepContext } from '../step-context.ts';

export interface AsMetadataResult {
  /** Validated metadata, as oauth4webapi expects it for every later request. */
  readonly as: oauth.AuthorizationServer;
  readonly url: string;
}

const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'registration_endpoint'] as const;

/**
 * Fetches the issuer's metadata from the first well-known URL that answers 200, and refuses it unless:
 * `issuer` is identical to the issuer the PRM named (RFC 8414 §3.3, a simple string comparison), PKCE S256 is
 * advertised (MCP Security Considerations: Authorization Code Protection), and every endpoint is https or loopback
 * (OAuth 2.1 §1.5).
 */
export async function discoverAuthorizationServer(ctx: StepContext, issuer: string): Promise<AsMetadataResult> {
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch (cause) {
    throw new FlowError(`authorization server issuer is not a URL: ${issuer}`, { cause });
  }
  ctx.check('issuer is https (or loopback)', isSecureOrLoopback(issuerUrl), issuer);
  const urls = authorizationServerMetadataUrls(issuer);
  for (const url of urls) {
    let response: Response;
    try {
      response = await ctx.fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual' });
    } catch (cause) {
      ctx.record({ name: `fetch ${url}`, ok: false, detail: messageOf(cause) });
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      ctx.record({ name: `fetch ${url}`, ok: false, detail: `HTTP ${response.status}; trying the next location` });
      continue;
    }
    const doc = await readMetadataDocument(ctx, url, response);
    ctx.check(
      'issuer identical to the one the resource named',
      doc.issuer === issuer,
      `metadata issuer ${JSON.stringify(doc.issuer)}, expected ${JSON.stringify(issuer)}`,
      'the metadata belongs to another issuer; using it would enable a mix-up attack (RFC 8414 §3.3)',
    );
    const as = await checkMetadataDocument(ctx, doc);
    return { as, url };
  }
  throw new FlowError(`no authorization server metadata found for issuer ${issuer}`, {
    hint: `tried ${urls.join(', ')}; the authorization server must serve RFC 8414 or OpenID Connect Discovery metadata`,
  });
}

/**
 * Parses a 200 answer as RFC 8414 metadata (refusing a broken document) and records where it was found.
 * The caller then checks `issuer` by its own rule, before {@link checkMetadataDocument}.
 */
export async function readMetadataDocument(ctx: StepContext, url: string, response: Response): Promise<Record<string, unknown>> {
  let json: unknown;
  try {
    json = await response.json();
    parseAuthorizationServerMetadata(json);
  } catch (cause) {
    const field = cause instanceof MetadataError && cause.field ? ` (${cause.field})` : '';
    throw new FlowError(`authorization server metadata at ${url} is invalid${field}: ${messageOf(cause)}`, {
      hint: 'the authorization server publishes a broken RFC 8414 document',
      cause,
    });
  }
  ctx.record({ name: 'authorization server metadata found', ok: true, detail: url });
  return json as Record<string, unknown>;
}

/**
 * The checks every metadata document passes once its `issuer` is accepted: PKCE S256 advertised (MCP Security
 * Considerations: Authorization Code Protection), endpoints https or loopback (OAuth 2.1 §1.5), the endpoints
 * the flow needs present, response type `code`; then oauth4webapi's own validation (RFC 8414 §3.2), keyed on
 * the accepted `issuer`.
 */
export async function checkMetadataDocument(ctx: StepContext, doc: Record<string, unknown>): Promise<oauth.AuthorizationServer> {
  const methods = doc.code_challenge_methods_supported as string[] | undefined;
  ctx.check(
    'PKCE S256 supported',
    Array.isArray(methods) && methods.includes('S256'),
    methods ? `code_challenge_methods_supported: ${methods.join(' ')}` : 'code_challenge_methods_supported absent',
    'the MCP spec forbids authorizing without PKCE S256; the authorization server must advertise it',
  );
  checkEndpoints(ctx, doc);
  ctx.check('authorization_endpoint present', typeof doc.authorization_endpoint === 'string', String(doc.authorization_endpoint));
  ctx.check('token_endpoint present', typeof doc.token_endpoint === 'string', String(doc.token_endpoint));
  const responseTypes = doc.response_types_supported as string[] | undefined;
  if (responseTypes) ctx.check('response type code supported', responseTypes.includes('code'), responseTypes.join(' '));
  ctx.record({
    name: 'RFC 9207 iss in authorization responses',
    ok: true,
    detail: doc.authorization_response_iss_parameter_supported === true ? 'advertised: iss required' : 'not advertised: iss checked when present',
  });
  try {
    // oauth4webapi validates the document again (its issuer check normalizes the URL; the caller's does not).
    return await oauth.processDiscoveryResponse(
      new URL(String(doc.issuer)),
      new Response(JSON.stringify(doc), { status: 200, headers: { 'content-type': 'application/json' } }),
    );
  } catch (cause) {
    throw new FlowError(`authorization server metadata rejected: ${messageOf(cause)}`, { cause });
  }
}

/** Refuses any authorization, token or registration endpoint that is plain http on a non-loopback host (OAuth 2.1 §1.5). */
export function checkEndpoints(ctx: StepContext, endpoints: Readonly<Record<string, unknown>>): void {
  for (const field of ENDPOINTS) {
    const value = endpoints[field];
    if (value === undefined) continue;
    ctx.check(`${field} is https (or loopback)`, isSecureOrLoopback(value as string), String(value), 'refusing to send credentials over plain http to a non-loopback host');
  }
}
