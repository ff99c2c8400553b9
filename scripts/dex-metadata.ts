/**
 * Writes the RFC 8414 document authz-metadata serves for Dex: `node scripts/dex-metadata.ts [out-file]`, issuer from
 * DEX_ISSUER (default http://127.0.0.1:5556/dex). authz-metadata/dex-metadata.json is its output for the default.
 */
import { writeFileSync } from 'node:fs';
import { dexAuthorizationServerMetadata, formatMetadataDocument } from '../authz-metadata/src/dex-metadata.ts';
import { DEX_DEFAULTS } from './dex-config.ts';

/** The document's text for a Dex at `issuer`. */
export function renderDexMetadataDocument(issuer: string = DEX_DEFAULTS.issuer): string {
  return formatMetadataDocument(dexAuthorizationServerMetadata(issuer));
}

if (import.meta.filename === process.argv[1]) {
  const text = renderDexMetadataDocument(process.env.DEX_ISSUER || DEX_DEFAULTS.issuer);
  const out = process.argv[2];
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}
