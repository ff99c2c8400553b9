/**
 * Validators for the export formats, from the formats' own definitions: SARIF 2.1.0 (the OASIS JSON schema that
 * @microsoft/jest-sarif ships), HAR 1.2 (har-schema), both with ajv; Mermaid with the mermaid package's parser.
 * Shared by the unit tests and the lab suites.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import mermaid from 'mermaid';

const require = createRequire(import.meta.url);
// CommonJS packages: loaded with require so that their default export is the same under tsc and at run time.
const { default: Ajv } = require('ajv') as typeof import('ajv');
const { default: AjvDraft04 } = require('ajv-draft-04') as typeof import('ajv-draft-04');
const { default: addFormats } = require('ajv-formats') as typeof import('ajv-formats');

let sarif: ValidateFunction | undefined;
let har: ValidateFunction | undefined;

/** The SARIF 2.1.0 schema validator (draft-04; one of its patterns is invalid with the `u` flag). */
export function sarifValidator(): ValidateFunction {
  if (!sarif) {
    const schema = JSON.parse(readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8')) as object;
    const ajv = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    sarif = ajv.compile(schema);
  }
  return sarif;
}

/** The HAR 1.2 validator (har-schema's draft-06 schemas). */
export function harValidator(): ValidateFunction {
  if (!har) {
    const schemas = require('har-schema') as Record<string, object>;
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
    addFormats(ajv);
    for (const s of Object.values(schemas)) ajv.addSchema(s);
    const validate = ajv.getSchema('har.json#');
    if (!validate) throw new Error('har-schema has no har.json');
    har = validate;
  }
  return har;
}

/** Parses a Mermaid diagram; resolves with its type, rejects with the parser's error. */
export async function parseMermaid(text: string): Promise<string> {
  const r = await mermaid.parse(text);
  if (!r) throw new Error('mermaid.parse returned nothing');
  return r.diagramType;
}
