/**
 * Authorization server metadata of the issuer the resource names: RFC 8414 path insertion, the OpenID Connect
 * Discovery fallback, the issuer echo (RFC 8414 §3.3), PKCE S256 and RFC 9207 `iss` advertisement.
 */
import { MetadataError, parseAuthorizationServerMetadata, type AuthorizationServerMetadata } from '@mcp-lab/protocol';
import { messageOf } from '../../errors.ts';
import type { CheckDefinition, Evidence } from '../check.ts';
import { describeProbe, type DoctorContext } from '../context.ts';
import { reportAllNotApplicable, type CheckModule } from '../module.ts';
import { mcp, rfc } from '../spec.ts';

export const AS_RFC8414: CheckDefinition = {
  id: 'as-metadata-rfc8414',
  concern: 'authorization-server',
  title: 'RFC 8414 metadata is served at the path-inserted well-known URL',
  meaning: 'MCP clients look for /.well-known/oauth-authorization-server<issuer path> first; OpenID discovery is only a fallback.',
  spec: rfc(8414, '3.1'),
  fix: 'Serve the RFC 8414 document at <issuer origin>/.well-known/oauth-authorization-server<issuer path>.',
  needsCredentials: false,
};

export const AS_OIDC_FALLBACK: CheckDefinition = {
  id: 'as-oidc-fallback',
  concern: 'authorization-server',
  title: 'OpenID Connect Discovery, when served, is a usable fallback',
  meaning: 'Clients that do not find RFC 8414 metadata try OpenID Connect Discovery (path insertion, then appending).',
  spec: mcp('basic/authorization', 'Authorization Server Metadata Discovery', 'authorization-server-metadata-discovery'),
  fix: 'Serve /.well-known/openid-configuration with the same issuer, or serve RFC 8414 metadata.',
  needsCredentials: false,
};

export const AS_ISSUER_ECHO: CheckDefinition = {
  id: 'as-issuer-echo',
  concern: 'authorization-server',
  title: 'The metadata issuer is identical to the issuer the resource names',
  meaning: 'Clients compare issuer as a plain string and must refuse a mismatch (mix-up defence); a trailing slash is a mismatch.',
  spec: rfc(8414, '3.3'),
  fix: 'Make authorization_servers in the resource metadata and issuer in the AS metadata the same string, character for character.',
  needsCredentials: false,
};

export const AS_PKCE_S256: CheckDefinition = {
  id: 'as-pkce-s256',
  concern: 'authorization-server',
  title: 'The authorization server advertises PKCE S256',
  meaning: 'MCP clients must refuse to authorize when code_challenge_methods_supported lacks S256.',
  spec: mcp('basic/authorization', 'Authorization Code Protection', 'authorization-code-protection'),
  fix: 'Support PKCE with S256 and list it in code_challenge_methods_supported.',
  needsCredentials: false,
};

export const AS_ISS_PARAMETER: CheckDefinition = {
  id: 'as-iss-parameter',
  concern: 'authorization-server',
  title: 'The authorization server advertises RFC 9207 iss in authorization responses',
  meaning: 'The iss response parameter lets clients detect mix-up attacks; MCP recommends that authorization servers send it.',
  spec: rfc(9207, '3'),
  fix: 'Send iss in every authorization response and set authorization_response_iss_parameter_supported: true.',
  needsCredentials: false,
};

const CHECKS = [AS_RFC8414, AS_OIDC_FALLBACK, AS_ISSUER_ECHO, AS_PKCE_S256, AS_ISS_PARAMETER];

interface Found {
  readonly url: string;
  readonly metadata: AuthorizationServerMetadata | undefined;
  readonly problem: string | undefined;
  readonly evidence: Evidence;
}

async function fetchMetadata(ctx: DoctorContext, url: string, purpose: string): Promise<Found> {
  const p = await ctx.send(purpose, url, { headers: { accept: 'application/json' } });
  if (p.status !== 200) return { url, metadata: undefined, problem: describeProbe(p), evidence: p.evidence };
  try {
    return { url, metadata: parseAuthorizationServerMetadata(p.json ?? JSON.parse(p.text)), problem: undefined, evidence: p.evidence };
  } catch (err) {
    const field = err instanceof MetadataError && err.field ? ` (${err.field})` : '';
    return { url, metadata: undefined, problem: `invalid document${field}: ${messageOf(err)}`, evidence: p.evidence };
  }
}

async function run(ctx: DoctorContext): Promise<void> {
  const issuer = ctx.facts.prm?.issuer;
  if (issuer === undefined) {
    reportAllNotApplicable(ctx, CHECKS, 'no authorization server is named (see the resource metadata checks)');
    return;
  }
  let u: URL;
  try {
    u = new URL(issuer);
  } catch {
    reportAllNotApplicable(ctx, CHECKS, `the issuer is not a URL: ${issuer}`);
    return;
  }
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  const rfc8414 = await fetchMetadata(ctx, `${u.origin}/.well-known/oauth-authorization-server${path}`, 'RFC 8414 authorization server metadata');
  const oidcUrls = path ? [`${u.origin}/.well-known/openid-configuration${path}`, `${u.origin}${path}/.well-known/openid-configuration`] : [`${u.origin}/.well-known/openid-configuration`];
  const oidcTried: Found[] = [];
  for (const url of oidcUrls) {
    const f = await fetchMetadata(ctx, url, 'OpenID Connect Discovery');
    oidcTried.push(f);
    if (f.metadata) break;
  }
  const oidc = oidcTried.find((f) => f.metadata);

  if (rfc8414.metadata) ctx.report(AS_RFC8414, 'pass', `served at ${rfc8414.url}`, [rfc8414.evidence]);
  else if (oidc) ctx.report(AS_RFC8414, 'warn', `${rfc8414.url}: ${rfc8414.problem}; only OpenID discovery at ${oidc.url}`, [rfc8414.evidence]);
  else ctx.report(AS_RFC8414, 'fail', `${rfc8414.url}: ${rfc8414.problem}, and no OpenID discovery either`, [rfc8414.evidence, ...oidcTried.map((f) => f.evidence)]);

  const brokenOidc = oidcTried.find((f) => f.problem?.startsWith('invalid'));
  if (oidc) ctx.report(AS_OIDC_FALLBACK, 'pass', `served at ${oidc.url}`, [oidc.evidence]);
  else if (brokenOidc) ctx.report(AS_OIDC_FALLBACK, 'fail', `${brokenOidc.url}: ${brokenOidc.problem}`, [brokenOidc.evidence]);
  else if (rfc8414.metadata) ctx.report(AS_OIDC_FALLBACK, 'not-applicable', `not served (${oidcTried.map((f) => `${f.url}: ${f.problem}`).join('; ')}); the RFC 8414 document suffices`, oidcTried.map((f) => f.evidence));
  else ctx.report(AS_OIDC_FALLBACK, 'not-applicable', 'no metadata at all (see as-metadata-rfc8414)');

  const served = [rfc8414, ...(oidc ? [oidc] : [])].filter((f) => f.metadata);
  const used = served[0];
  if (!used) {
    reportAllNotApplicable(ctx, [AS_ISSUER_ECHO, AS_PKCE_S256, AS_ISS_PARAMETER], 'no authorization server metadata was found');
    return;
  }
  const mismatched = served.filter((f) => f.metadata?.issuer !== issuer);
  ctx.report(
    AS_ISSUER_ECHO,
    mismatched.length ? 'fail' : 'pass',
    mismatched.length
      ? mismatched.map((f) => `${f.url} says issuer ${JSON.stringify(f.metadata?.issuer)}, the resource names ${JSON.stringify(issuer)}`).join('; ')
      : `issuer ${JSON.stringify(issuer)}`,
    served.map((f) => f.evidence),
  );
  const metadata = used.metadata as AuthorizationServerMetadata;
  const methods = metadata.code_challenge_methods_supported;
  ctx.report(
    AS_PKCE_S256,
    methods?.includes('S256') ? 'pass' : 'fail',
    methods ? `code_challenge_methods_supported: ${methods.join(' ') || '(empty)'}` : 'code_challenge_methods_supported is absent',
    [used.evidence],
  );
  const iss = metadata.authorization_response_iss_parameter_supported === true;
  ctx.report(AS_ISS_PARAMETER, iss ? 'pass' : 'warn', iss ? 'authorization_response_iss_parameter_supported: true' : 'authorization_response_iss_parameter_supported is not true', [used.evidence]);
  ctx.facts.as = { metadata, url: used.url, issuer: metadata.issuer };
}

export const asMetadataModule: CheckModule = { name: 'authorization-server', checks: CHECKS, run };
