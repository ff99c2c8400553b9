/**
 * Target (a), the ceiling: one Fastify route that answers any POST /mcp with a fixed tools/call result. No auth, no
 * MCP machinery, only HTTP + JSON parse + JSON reply, so that (c) / (a) shows what everything else costs.
 */
import Fastify from 'fastify';
import { loadPortConfig } from './env.ts';

const { port } = loadPortConfig(process.env);

const WHOAMI_TEXT = JSON.stringify({
  iss: 'http://127.0.0.1/bench',
  sub: 'bench-user',
  aud: 'http://127.0.0.1/mcp',
  permissions: ['notes:read'],
  client_id: 'bench-client',
  exp: 4_102_444_800,
});

const app = Fastify({ logger: false });

app.post('/mcp', async function toolsCallResult(request) {
  const id = (request.body as { id?: unknown } | undefined)?.id ?? null;
  return { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: WHOAMI_TEXT }] } };
});
app.get('/health', async function health() {
  return { ok: true };
});

await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', function closeOnSigterm() {
  void app.close().then(() => process.exit(0));
});
