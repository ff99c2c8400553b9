/**
 * Step 2b, deprecated: the MCP 2025-03-26 authorization discovery, for servers of that era, which publish no
 * Protected Resource Metadata (RFC 9728).
 *
 * MCP 2025-03-26 Authorization, "Server Metadata Discovery"
 * (https://modelcontextprotocol.io/specification/2025-03-26/basic/authorization#server-metadata-discovery): the
 * authorization base URL is the MCP server URL without its path; its RFC 8414 metadata is at
 * `<base>/.well-known/oauth-authorization-server`; when that answers 404 the client uses the default endpoints
 * `<base>/authorize`, `<base>/token`, `<base>/register` ("Fallbacks for Servers without Metadata Discovery"),
 * and "all other protocol requirements remain unchanged".
 *
 * Since 2025-06-18 servers MUST publish PRM; the 2026-07-28 discovery sequence ends, when no PRM is found, with
 * "abort or use pre-configured values". This step is those values, and the orchestrator runs it only when PRM
 * discovery found nothing at all (see ResourceMetadataNotFoundError.legacyFallbackAllowed): a PRM document that
 * exists but fails a check never gets here.
 */
import type * as oauth from 'oauth4webapi';
import { FlowError, messageOf } from '../errors.ts';
import { isSecureOrLoopback } from '../loopback.ts';
import type { StepContext } from '../step-context.ts';
import { checkEndpoints, checkMetadataDocument, readMetadataDocument } from './as-metadata.ts';

/** The protocol version whose rules this step follows; also sent as MCP-Protocol-Version (2025-03-26: SHOULD). */
export const LEGACY_AUTH_PROTOCOL_VERSION = '2025-03-26';

export interface LegacyDiscoveryResult {
  readonly as: oauth.AuthorizationServer;
  /** The MCP server URL without its path. */
  readonly authorizationBaseUrl: string;
  readonly metadataUrl: string;
  /** `metadata`: the origin serves RFC 8414 metadata; `default-endpoints`: it answered 404 and endpoints were assumed. */
  readonly source: 'metadata' | 'default-endpoints';
}

/**
 * Finds the authorization server of a 2025-03-26-era MCP server. Keeps the current checks where they still
 * apply: endpoints https or loopback, PKCE S256 advertised by any metadata document found, and an issuer rule
 * (see {@link checkLegacyIssuer}); refuses to assume endpoints unless the metadata URL answered exactly 404.
 */
export async function discoverLegacyAuthorizationServer(ctx: StepContext, serverUrl: string): Promise<LegacyDiscoveryResult> {
  const base = new URL(serverUrl).origin;
  ctx.record({
    name: `deprecated ${LEGACY_AUTH_PROTOCOL_VERSION} fallback`,
    ok: true,
    detail: 'the server publishes no Protected Resource Metadata (RFC 9728): its 401 named no resource_metadata and every well-known PRM URI answered 404',
  });
  ctx.diagnostic(
    `${serverUrl} publishes no Protected Resource Metadata; using the deprecated ${LEGACY_AUTH_PROTOCOL_VERSION} discovery (authorization server at ${base})`,
    'warn',
  );
  ctx.check(
    'authorization base URL is https (or loopback)',
    isSecureOrLoopback(base),
    `${base} (the MCP server URL without its path)`,
    'refusing to assume an authorization server on a plain-http, non-loopback origin',
  );
  const metadataUrl = `${base}/.well-known/oauth-authorization-server`;
  let response: Response;
  try {
    response = await ctx.fetch(metadataUrl, {
      headers: { accept: 'application/json', 'mcp-protocol-version': LEGACY_AUTH_PROTOCOL_VERSION },
      redirect: 'manual',
    });
  } catch (cause) {
    throw new FlowError(`fetch ${metadataUrl} failed: ${messageOf(cause)}`, {
      hint: 'the MCP server origin did not answer; no authorization endpoints are assumed for an unreachable server',
      cause,
    });
  }
  if (response.status === 200) {
    const doc = await readMetadataDocument(ctx, metadataUrl, response);
    checkLegacyIssuer(ctx, doc.issuer, base);
    const as = await checkMetadataDocument(ctx, doc);
    return { as, authorizationBaseUrl: base, metadataUrl, source: 'metadata' };
  }
  await response.body?.cancel();
  ctx.check(
    'authorization server metadata absent (HTTP 404)',
    response.status === 404,
    `HTTP ${response.status}`,
    'only a 404 means "no metadata" in 2025-03-26; endpoints are not assumed for a server that answers otherwise',
  );
  const as: oauth.AuthorizationServer = {
    issuer: base,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    registration_endpoint: `${base}/register`,
  };
  ctx.record({
    name: `default endpoints assumed (${LEGACY_AUTH_PROTOCOL_VERSION})`,
    ok: true,
    detail: `${as.authorization_endpoint}, ${as.token_endpoint}, ${as.registration_endpoint}`,
  });
  checkEndpoints(ctx, as);
  ctx.record({
    name: 'PKCE S256',
    ok: true,
    detail: `not advertised (no metadata document); ${LEGACY_AUTH_PROTOCOL_VERSION} requires PKCE of every client, so S256 is sent`,
  });
  ctx.record({ name: 'RFC 9207 iss in authorization responses', ok: true, detail: `not advertised: iss checked against ${base} when present` });
  return { as, authorizationBaseUrl: base, metadataUrl, source: 'default-endpoints' };
}

/**
 * No PRM names an issuer here, so the only trust anchor is the MCP server's origin, from which the document was
 * fetched. An issuer identical to the authorization base URL is what RFC 8414 §3.3 expects for that URL; an
 * issuer with a path on the same origin (2025-03-26 servers do this, and the conformance suite models it) is
 * accepted and shown as a failed, non-fatal check; an issuer on another origin is refused. The accepted issuer is
 * then the one recorded for the RFC 9207 `iss` check and the token store, exactly as with PRM.
 */
function checkLegacyIssuer(ctx: StepContext, issuer: unknown, base: string): void {
  if (issuer === base) {
    ctx.check('issuer identical to the authorization base URL', true, `metadata issuer ${JSON.stringify(issuer)}`);
    return;
  }
  let origin: string | undefined;
  try {
    origin = new URL(String(issuer)).origin;
  } catch {
    origin = undefined;
  }
  ctx.check(
    'issuer on the MCP server origin',
    origin === base,
    `metadata issuer ${JSON.stringify(issuer)}, authorization base URL ${base}`,
    'no Protected Resource Metadata names an issuer, so only the MCP server origin is trusted; metadata claiming another origin could enable a mix-up attack',
  );
  ctx.record({
    name: 'issuer identical to the authorization base URL (RFC 8414 §3.3)',
    ok: false,
    detail: `no: ${JSON.stringify(issuer)} vs ${base}; accepted because it is on the same origin (${LEGACY_AUTH_PROTOCOL_VERSION} fallback only)`,
  });
}
