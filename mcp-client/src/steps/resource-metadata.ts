/**
 * Step 2: Protected Resource Metadata discovery (RFC 9728; MCP Authorization Server Discovery §"Protected
 * Resource Metadata Discovery Requirements"): the challenge's resource_metadata URL when present, otherwise the
 * path-suffixed well-known URI, then the root one.
 */
import {
  MetadataError,
  canonicalResource,
  parseProtectedResourceMetadata,
  protectedResourceMetadataUrls,
  resourceCovers,
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
    const identical = safeCanonical(metadata.resource) === safeCanonical(serverUrl);
    ctx.check(
      'resource covers the server URL',
      resourceCovers(metadata.resource, serverUrl),
      `resource ${metadata.resource} ${identical ? 'is' : 'vs'} server ${serverUrl}`,
      'the metadata describes another resource; refusing to use its authorization servers (RFC 9728 §3.3)',
    );
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
    return { metadata, url: candidate.url, via: candidate.via, issuer };
  }
  throw new ResourceMetadataNotFoundError(`no protected resource metadata found for ${serverUrl}`, {
    hint: `tried ${candidates.map((c) => c.url).join(', ')}; the server must implement RFC 9728`,
    legacyFallbackAllowed: all404,
  });
}

function safeCanonical(url: string): string | undefined {
  try {
    return canonicalResource(url);
  } catch {
    return undefined;
  }
}
