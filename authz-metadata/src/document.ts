import { readFileSync } from 'node:fs';
import { parseAuthorizationServerMetadata, type AuthorizationServerMetadata } from '@mcp-lab/protocol';
import { ConfigError } from './errors.ts';

/**
 * Reads the RFC 8414 document once, at start, and checks it belongs to the configured issuer: RFC 8414 §3.3
 * makes a client reject a document whose `issuer` differs from the one it asked about, so serving such a
 * document would break every client. Refusing to start says so where the mistake was made.
 */
export function loadMetadataDocument(path: string, issuer: string): Readonly<AuthorizationServerMetadata> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('authz-metadata', [`AUTHZ_METADATA_DOCUMENT cannot be read (${path}): ${(cause as Error).message}`], { cause });
  }
  let doc: AuthorizationServerMetadata;
  try {
    doc = parseAuthorizationServerMetadata(JSON.parse(text));
  } catch (cause) {
    throw new ConfigError('authz-metadata', [`AUTHZ_METADATA_DOCUMENT (${path}) is not RFC 8414 metadata: ${(cause as Error).message}`], {
      cause,
    });
  }
  if (doc.issuer !== issuer) {
    throw new ConfigError('authz-metadata', [
      `AUTHZ_METADATA_DOCUMENT (${path}) has issuer "${doc.issuer}" but AUTHZ_METADATA_ISSUER is "${issuer}"; ` +
        'they must be identical (RFC 8414 §3.3)',
    ]);
  }
  return Object.freeze(doc);
}
