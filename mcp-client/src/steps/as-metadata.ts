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
    const doc = json as Record<string, unknown>;
    ctx.record({ name: 'authorization server metadata found', ok: true, detail: url });
    ctx.check(
      'issuer identical to the one the resource named',
      doc.issuer === issuer,
      `metadata issuer ${JSON.stringify(doc.issuer)}, expected ${JSON.stringify(issuer)}`,
      'the metadata belongs to another issuer; using it would enable a mix-up attack (RFC 8414 §3.3)',
    );
    const methods = doc.code_challenge_methods_supported as string[] | undefined;
    ctx.check(
      'PKCE S256 supported',
      Array.isArray(methods) && methods.includes('S256'),
      methods ? `code_challenge_methods_supported: ${methods.join(' ')}` : 'code_challenge_methods_supported absent',
      'the MCP spec forbids authorizing without PKCE S256; the authorization server must advertise it',
    );
    for (const field of ENDPOINTS) {
      const value = doc[field];
      if (value === undefined) continue;
      ctx.check(`${field} is https (or loopback)`, isSecureOrLoopback(value as string), String(value), 'refusing to send credentials over plain http to a non-loopback host');
    }
    ctx.check('authorization_endpoint present', typeof doc.authorization_endpoint === 'string', String(doc.authorization_endpoint));
    ctx.check('token_endpoint present', typeof doc.token_endpoint === 'string', String(doc.token_endpoint));
    const responseTypes = doc.response_types_supported as string[] | undefined;
    if (responseTypes) ctx.check('response type code supported', responseTypes.includes('code'), responseTypes.join(' '));
    ctx.record({
      name: 'RFC 9207 iss in authorization responses',
      ok: true,
      detail: doc.authorization_response_iss_parameter_supported === true ? 'advertised: iss required' : 'not advertised: iss checked when present',
    });
    let as: oauth.AuthorizationServer;
    try {
      // oauth4webapi validates the document again (its issuer check normalizes the URL; ours above does not).
      as = await oauth.processDiscoveryResponse(
        issuerUrl,
        new Response(JSON.stringify(doc), { status: 200, headers: { 'content-type': 'application/json' } }),
      );
    } catch (cause) {
      throw new FlowError(`authorization server metadata rejected: ${messageOf(cause)}`, { cause });
    }
    return { as, url };
  }
  throw new FlowError(`no authorization server metadata found for issuer ${issuer}`, {
    hint: `tried ${urls.join(', ')}; the authorization server must serve RFC 8414 or OpenID Connect Discovery metadata`,
  });
}
