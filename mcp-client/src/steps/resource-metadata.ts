/**
 * Step 2: Protected Resource Metadata discovery (RFC 9728; MCP Authorization Server Discovery §"Protected
 * Resource Metadata Discovery Requirements"): the challenge's resource_metadata URL when present, otherwise the
 * path-suffixed well-known URI, then the root one.
 */
import {
  MetadataError,
  parseProtectedResourceMetadata,
  protectedResourceMetadataUrls,
  type ProtectedResourceMetadata,
} from '@mcp-lab/protocol';
import { FlowError, messageOf } from '../errors.ts';
import { isSecureOrLoopback } from '../loopback.ts';
import type { StepContext } from '../step-context.ts';

export interface ResourceMetadataResult {
  readonly metadata: ProtectedResourceMetadata;
  /** Where the document was found. */
  readonly url: string;
  readonly via: 'challenge' | 'well-known';
  /**
   * The RFC 8707 `resource` to send in authorization and token requests: the PRM's `resource`, exactly as published
   * (MCP Resource Parameter Implementation; never re-serialized, so no "/" is appended to a pathless identifier).
   */
  readonly resource: string;
  /** The authorization server the client will use (RFC 9728 §7.6: the client's choice; the first listed). */
  readonly issuer: string;
}

/**
 * No location had a PRM document. `legacyFallbackAllowed` is true only for what a 2025-03-26-era server looks
 * like: the 401 challenge named no resource_metadata URL and every well-known URI answered exactly 404. Anything
 * else (a challenge URL that failed, a 5xx, a network error) means PRM was meant to be there, and the client stops.
 */
export class ResourceMetadataNotFoundError extends FlowError {
  readonly legacyFallbackAllowed: boolean;
  constructor(message: string, options: { hint: string; legacyFallbackAllowed: boolean }) {
    super(message, { hint: options.hint });
    this.legacyFallbackAllowed = options.legacyFallbackAllowed;
  }
}

/**
 * Finds and validates the PRM document for `serverUrl`.
 * Refuses a document whose `resource` does not cover the server URL (RFC 9728 §3.3): a metadata document for
 * another resource could send the client's token to an authorization server the resource never named.
 */
export async function discoverResourceMetadata(
  ctx: StepContext,
  serverUrl: string,
  challengeUrl: string | undefined,
): Promise<ResourceMetadataResult> {
  const candidates: { url: string; via: 'challenge' | 'well-known' }[] = [];
  if (challengeUrl !== undefined) {
    let ok = false;
    try {
      ok = isSecureOrLoopback(challengeUrl);
    } catch {
      ok = false;
    }
    ctx.check('resource_metadata URL is https (or loopback)', ok, challengeUrl);
    candidates.push({ url: challengeUrl, via: 'challenge' });
  }
  for (const url of protectedResourceMetadataUrls(serverUrl)) {
    if (!candidates.some((c) => c.url === url)) candidates.push({ url, via: 'well-known' });
  }
  // Whether every location answered a plain 404, i.e. the server has no PRM at all (see ResourceMetadataNotFoundError).
  let all404 = challengeUrl === undefined;
  for (const candidate of candidates) {
    let response: Response;
    try {
      response = await ctx.fetch(candidate.url, { headers: { accept: 'application/json' }, redirect: 'manual' });
    } catch (cause) {
      all404 = false;
      ctx.record({ name: `fetch ${candidate.url}`, ok: false, detail: messageOf(cause) });
      continue;
    }
    if (response.status !== 200) {
      if (response.status !== 404) all404 = false;
      await response.body?.cancel();
      ctx.record({ name: `fetch ${candidate.url}`, ok: false, detail: `HTTP ${response.status}; trying the next location` });
      continue;
    }
    let metadata: ProtectedResourceMetadata;
    try {
      metadata = parseProtectedResourceMetadata(await response.json());
    } catch (cause) {
      const field = cause instanceof MetadataError && cause.field ? ` (${cause.field})` : '';
      throw new FlowError(`protected resource metadata at ${candidate.url} is invalid${field}: ${messageOf(cause)}`, {
        hint: 'the MCP server publishes a broken RFC 9728 document; report it to its operator',
        cause,
      });
    }
    ctx.record({ name: 'protected resource metadata found', ok: true, detail: `${candidate.url} (via ${candidate.via})` });
    const expected = expectedResource(serverUrl, candidate);
    ctx.check(
      'resource is identical to the expected resource identifier',
      sameIdentifier(metadata.resource, expected.identifier),
      `resource ${metadata.resource}; expected ${expected.identifier} (${expected.why})`,
      'the metadata describes another resource; refusing to use its authorization servers (RFC 9728 §3.3: the values MUST be identical)',
    );
    ctx.record({
      name: 'resource indicator to send',
      ok: true,
      detail: `${metadata.resource} — the resource published in this metadata, sent as is (RFC 8707; MCP Resource Parameter Implementation)`,
    });
    const servers = metadata.authorization_servers ?? [];
    ctx.check(
      'authorization_servers lists at least one issuer',
      servers.length > 0,
      servers.join(' ') || 'empty',
      'the MCP server names no authorization server; it cannot be used with OAuth',
    );
    const issuer = servers[0] as string;
    if (servers.length > 1) {
      ctx.record({ name: 'authorization server chosen', ok: true, detail: `${issuer} (first of ${servers.length})` });
    }
    return { metadata, url: candidate.url, via: candidate.via, resource: metadata.resource, issuer };
  }
  throw new ResourceMetadataNotFoundError(`no protected resource metadata found for ${serverUrl}`, {
    hint: `tried ${candidates.map((c) => c.url).join(', ')}; the server must implement RFC 9728`,
    legacyFallbackAllowed: all404,
  });
}

/**
 * The resource identifier a PRM document must name (RFC 9728 §3.3). Found through the challenge's
 * `resource_metadata`: the URL the client made its request to. Found at a well-known URI: the identifier that URI was
 * built from — the server URL for the path-suffixed one, the origin for the root one (so a root document whose
 * `resource` is the origin is right, and one at the path-suffixed URI naming the origin is not).
 */
export function expectedResource(serverUrl: string, candidate: { url: string; via: 'challenge' | 'well-known' }): { identifier: string; why: string } {
  const server = new URL(serverUrl);
  server.hash = '';
  if (candidate.via === 'challenge') return { identifier: server.href, why: 'the URL requested, since the challenge named this document' };
  const root = `${server.origin}/.well-known/oauth-protected-resource`;
  if (candidate.url === root) {
    return { identifier: server.origin, why: 'the origin, since this is the root well-known URI' };
  }
  return { identifier: server.href, why: 'the server URL this well-known URI was built from' };
}

/**
 * Identical identifiers, compared as URLs after RFC 3986 §6.2.2 syntax normalization only (scheme and host case,
 * default port, an empty path being "/"): a different path (`/mcp/` for `/mcp`), a query (`?tenant=…`), a fragment
 * or another origin is another identifier.
 */
export function sameIdentifier(published: string, expected: string): boolean {
  const a = URL.parse(published);
  const b = URL.parse(expected);
  if (a === null || b === null || published.includes('#')) return false;
  return a.href === b.href;
}
