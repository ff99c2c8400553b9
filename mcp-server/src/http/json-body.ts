/**
 * The JSON body parser: Fastify's own (prototype-poisoning checks, body limit → 413) behind a nesting-depth limit,
 * so that a small body of 100,000 `[` cannot make the validators that walk it recurse without bound.
 *
 * A body that is not JSON does not fail here: it becomes a `MalformedJson` value, so that authentication can run
 * after the body is read (every error then carries the request's JSON-RPC id) and still come first — a request
 * without credentials is a 401 whatever its body; from an authenticated caller it is -32700 (parseJsonRpcBody).
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { MalformedJson } from '../mcp/jsonrpc.ts';

/** A JSON body nested deeper than allowed (400). */
export class JsonTooDeep extends Error {
  override readonly name = 'JsonTooDeep';
  readonly statusCode = 400;
  readonly code = 'MCP_LAB_JSON_TOO_DEEP';
  constructor(maxDepth: number) {
    super(`the JSON body is nested deeper than ${maxDepth} levels`);
  }
}

/**
 * True when `text` nests arrays/objects deeper than `maxDepth`. One pass over the characters, skipping string
 * contents (escapes included); it runs before parsing, so malformed input is left for the parser to refuse.
 */
export function jsonDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export interface JsonBodyOptions {
  readonly maxDepth: number;
}

const jsonBody: FastifyPluginAsync<JsonBodyOptions> = async function jsonBody(app, { maxDepth }) {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, function parseJsonBody(request, body, done) {
    const text = body as string;
    if (jsonDeeperThan(text, maxDepth)) {
      done(new JsonTooDeep(maxDepth), undefined);
      return;
    }
    parse(request, text, function parsed(err, value) {
      if (err) done(null, new MalformedJson(err));
      else done(null, value);
    });
  });
};

export default fp(jsonBody, { name: 'mcp-lab-json-body', fastify: '5.x' });
