/**
 * Protected Resource Metadata (RFC 9728): the path-suffixed and root well-known documents, the one the challenge
 * names, whether each document's `resource` is the identifier its URL was derived from, and
 * `authorization_servers`.
 */
import { MetadataError, insertWellKnown, parseProtectedResourceMetadata, type ProtectedResourceMetadata } from '@mcp-lab/protocol';
import { messageOf } from '../../errors.ts';
import { isSecureOrLoopback } from '../../loopback.ts';
import { expectedResource, sameIdentifier } from '../../steps/resource-metadata.ts';
import type { CheckDefinition, Evidence } from '../check.ts';
import { describeProbe, type DoctorContext } from '../context.ts';
import type { CheckModule } from '../module.ts';
import { rfc } from '../spec.ts';

export const PRM_PATH_SUFFIXED: CheckDefinition = {
  id: 'prm-path-suffixed',
  concern: 'resource-metadata',
  title: 'Protected Resource Metadata is served at the path-suffixed well-known URL',
  meaning: 'For an endpoint with a path (…/mcp) clients look first at /.well-known/oauth-protected-resource/mcp.',
  spec: rfc(9728, '3.1'),
  fix: 'Serve the RFC 9728 document at /.well-known/oauth-protected-resource<endpoint path> with resource = the endpoint URL.',
  needsCredentials: false,
};

export const PRM_ROOT: CheckDefinition = {
  id: 'prm-root',
  concern: 'resource-metadata',
  title: 'Protected Resource Metadata at the root well-known URL, when served, describes the origin',
  meaning: 'Clients fall back to /.well-known/oauth-protected-resource; for an origin-only server URL it is the only location.',
  spec: rfc(9728, '3.1'),
  fix: 'Serve /.well-known/oauth-protected-resource with resource = the origin (or serve it only for an origin-wide resource).',
  needsCredentials: false,
};

export const PRM_RESOURCE_IDENTITY: CheckDefinition = {
  id: 'prm-resource-identity',
  concern: 'resource-metadata',
  title: 'Each metadata document names the resource its URL was derived from',
  meaning: 'A client must refuse a document whose resource is another one (RFC 9728 §3.3): it could route tokens to an attacker\'s AS.',
  spec: rfc(9728, '3.3'),
  fix: 'Set resource to exactly the URL the well-known suffix was inserted into (the MCP endpoint URL for the path-suffixed document).',
  needsCredentials: false,
};

export const PRM_AUTHORIZATION_SERVERS: CheckDefinition = {
  id: 'prm-authorization-servers',
  concern: 'resource-metadata',
  title: 'authorization_servers lists at least one https (or loopback) issuer',
  meaning: 'Without an authorization server a client cannot obtain a token for this resource.',
  spec: rfc(9728, '2'),
  fix: 'List the issuer identifier of your authorization server in authorization_servers.',
  needsCredentials: false,
};

const CHECKS = [PRM_PATH_SUFFIXED, PRM_ROOT, PRM_RESOURCE_IDENTITY, PRM_AUTHORIZATION_SERVERS];

interface Fetched {
  readonly url: string;
  readonly via: 'challenge' | 'path-suffixed' | 'root';
  /** The identifier the document must name (RFC 9728 §3.3; the client's own rule, steps/resource-metadata.ts). */
  readonly expected: string;
  readonly metadata: ProtectedResourceMetadata | undefined;
  /** Why there is no document: HTTP status or a parse error. */
  readonly problem: string | undefined;
  readonly status: number | undefined;
  readonly evidence: Evidence;
}

async function fetchDocument(ctx: DoctorContext, url: string, via: Fetched['via']): Promise<Fetched> {
  const expected = expectedResource(ctx.serverUrl, { url, via: via === 'challenge' ? 'challenge' : 'well-known' }).identifier;
  const p = await ctx.send(`Protected Resource Metadata (${via})`, url, { headers: { accept: 'application/json' } });
  if (p.status !== 200) return { url, via, expected, metadata: undefined, problem: describeProbe(p), status: p.status, evidence: p.evidence };
  try {
    const metadata = parseProtectedResourceMetadata(p.json ?? JSON.parse(p.text));
    return { url, via, expected, metadata, problem: undefined, status: 200, evidence: p.evidence };
  } catch (err) {
    const field = err instanceof MetadataError && err.field ? ` (${err.field})` : '';
    return { url, via, expected, metadata: undefined, problem: `invalid document${field}: ${messageOf(err)}`, status: 200, evidence: p.evidence };
  }
}

async function run(ctx: DoctorContext): Promise<void> {
  const server = new URL(ctx.serverUrl);
  const rootUrl = `${server.origin}/.well-known/oauth-protected-resource`;
  const suffixedUrl = insertWellKnown(server, 'oauth-protected-resource');
  const hasPath = suffixedUrl !== rootUrl;
  const challengeUrl = ctx.facts.probe?.challenge?.params.resource_metadata;

  const docs: Fetched[] = [];
  if (challengeUrl !== undefined && challengeUrl !== suffixedUrl && challengeUrl !== rootUrl) {
    docs.push(await fetchDocument(ctx, challengeUrl, 'challenge'));
  }
  const suffixed = hasPath ? await fetchDocument(ctx, suffixedUrl, 'path-suffixed') : undefined;
  const root = await fetchDocument(ctx, rootUrl, 'root');
  if (suffixed) docs.push(suffixed);
  docs.push(root);
  const served = docs.filter((d) => d.metadata);
  const brokenDocs = docs.filter((d) => d.status === 200 && !d.metadata);

  if (!suffixed) {
    ctx.report(PRM_PATH_SUFFIXED, 'not-applicable', `the server URL has no path; ${rootUrl} is the well-known location`);
  } else if (suffixed.metadata) {
    ctx.report(PRM_PATH_SUFFIXED, 'pass', `served at ${suffixedUrl}`, [suffixed.evidence]);
  } else if (suffixed.status === 200) {
    ctx.report(PRM_PATH_SUFFIXED, 'fail', `${suffixedUrl}: ${suffixed.problem}`, [suffixed.evidence]);
  } else if (served.length > 0) {
    ctx.report(PRM_PATH_SUFFIXED, 'warn', `${suffixedUrl}: ${suffixed.problem}; clients fall back to ${served.map((d) => d.url).join(', ')}`, [suffixed.evidence]);
  } else {
    ctx.report(PRM_PATH_SUFFIXED, 'fail', `${suffixedUrl}: ${suffixed.problem}, and no other location serves metadata`, docs.map((d) => d.evidence));
  }

  if (root.metadata) {
    ctx.report(PRM_ROOT, 'pass', `served at ${rootUrl}`, [root.evidence]);
  } else if (root.status === 200) {
    ctx.report(PRM_ROOT, 'fail', `${rootUrl}: ${root.problem}`, [root.evidence]);
  } else if (hasPath) {
    ctx.report(PRM_ROOT, 'not-applicable', `${rootUrl}: ${root.problem}; optional for an endpoint with a path`, [root.evidence]);
  } else {
    ctx.report(PRM_ROOT, 'fail', `${rootUrl}: ${root.problem}; it is the only well-known location for this URL`, [root.evidence]);
  }

  if (served.length === 0) {
    ctx.report(PRM_RESOURCE_IDENTITY, 'not-applicable', brokenDocs.length ? 'no valid document to compare (see the checks above)' : 'no metadata document was found');
    ctx.report(PRM_AUTHORIZATION_SERVERS, 'not-applicable', 'no metadata document was found');
    return;
  }
  const wrong: string[] = [];
  for (const d of served) {
    const resource = (d.metadata as ProtectedResourceMetadata).resource;
    if (!sameIdentifier(resource, d.expected)) wrong.push(`${d.url} says resource "${resource}", expected "${d.expected}"`);
  }
  ctx.report(
    PRM_RESOURCE_IDENTITY,
    wrong.length ? 'fail' : 'pass',
    wrong.length ? wrong.join('; ') : served.map((d) => `${d.via}: ${(d.metadata as ProtectedResourceMetadata).resource}`).join('; '),
    served.map((d) => d.evidence),
  );

  // The document a client uses: the challenge's, else the path-suffixed one, else the root one.
  const used = served.find((d) => d.url === challengeUrl) ?? served[0] as Fetched;
  const metadata = used.metadata as ProtectedResourceMetadata;
  const servers = metadata.authorization_servers ?? [];
  const insecure = servers.filter((s) => !safeSecure(s));
  if (servers.length === 0) ctx.report(PRM_AUTHORIZATION_SERVERS, 'fail', `${used.url} lists no authorization server`, [used.evidence]);
  else if (insecure.length) ctx.report(PRM_AUTHORIZATION_SERVERS, 'fail', `not https (or loopback): ${insecure.join(' ')}`, [used.evidence]);
  else ctx.report(PRM_AUTHORIZATION_SERVERS, 'pass', servers.join(' '), [used.evidence]);
  ctx.facts.prm = { metadata, url: used.url, issuer: servers[0] };
}

function safeSecure(url: string): boolean {
  try {
    return isSecureOrLoopback(url);
  } catch {
    return false;
  }
}

export const resourceMetadataModule: CheckModule = { name: 'resource-metadata', checks: CHECKS, run };
