/**
 * JSON bodies that are not JSON do not fail at parse time: Fastify's own (prototype-poisoning-safe) parser runs,
 * and a body it refuses becomes a `MalformedJson` value. Authentication can then run after the body is read (so
 * every error, a 401 included, carries the request's JSON-RPC id) and still come first: a request without
 * credentials is answered 401 whatever its body, and a malformed body from an authenticated caller is -32700
 * (parseJsonRpcBody). Size limits are unchanged (413 before anything else).
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { MalformedJson } from './jsonrpc.ts';

const lenientJsonBody: FastifyPluginAsync = async function lenientJsonBody(app) {
  const strict = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, function parseJsonLeniently(request, body, done) {
    strict(request, body as string, function parsed(err, value) {
      if (err) done(null, new MalformedJson(err));
      else done(null, value);
    });
  });
};

export default fp(lenientJsonBody, { name: 'mcp-lab-json-body', fastify: '5.x' });
