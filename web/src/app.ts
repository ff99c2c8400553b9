/**
 * The web app: serves the browser client (one HTML document, its bundle, its configuration). `buildApp` never
 * listens. The page's origin is the one the RS must allow (MCP_ALLOWED_ORIGINS) and the IdP must accept as a
 * redirect URI origin and for CORS.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Bundle } from './bundle.ts';
import type { WebConfig } from './config.ts';
import { indexHtml } from './index-html.ts';
import { PAGE_PATHS } from './page-config.ts';

export interface WebDeps {
  /** The page's bundle (see buildBundle); built once by main.ts or a test. */
  readonly bundle: Bundle;
}

/**
 * Scripts only from this origin; fetch, EventSource and the IdP's pages anywhere (the page discovers them); no
 * framing. mermaid writes inline styles into its SVG.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  'connect-src http: https:',
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export async function buildApp(config: WebConfig, deps: WebDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: config.logLevel, serializers: { req: (req) => ({ method: req.method, path: req.url.split('?', 1)[0] }) } } });
  const html = indexHtml(config.page);
  const configJson = JSON.stringify(config.page);

  app.addHook('onSend', async function securityHeaders(_request, reply) {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    // The callback URL carries the authorization code: never send it on as a Referer.
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
  });

  for (const path of [PAGE_PATHS.home, PAGE_PATHS.callback]) {
    app.get(path, async function page(_request, reply) {
      return reply.type('text/html; charset=utf-8').send(html);
    });
  }
  app.get('/favicon.ico', async function noFavicon(_request, reply) {
    return reply.code(204).send();
  });
  app.get(PAGE_PATHS.config, async function pageConfig(_request, reply) {
    return reply.type('application/json').send(configJson);
  });
  app.get(`${PAGE_PATHS.assets}*`, async function asset(request, reply) {
    const file = deps.bundle.get(request.url.split('?', 1)[0] ?? '');
    if (!file) return reply.code(404).send({ error: 'not_found', error_description: 'no such asset' });
    return reply.type(file.contentType).send(Buffer.from(file.body));
  });
  return app;
}
