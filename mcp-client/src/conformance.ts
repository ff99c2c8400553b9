/**
 * Conformance mode: run by the official MCP conformance suite (@modelcontextprotocol/conformance), which sets
 * MCP_CONFORMANCE_SCENARIO (and MCP_CONFORMANCE_CONTEXT) and passes the server URL as the last argument.
 * It is the normal flow — same steps, same checks — with three differences: there is no person, so the
 * authorization URL is followed with fetch (manual redirects) until the redirect to the loopback redirect_uri;
 * the store is a fresh temporary directory; and it ends with era negotiation (server/discover, else initialize)
 * → tools/list → tools/call test-tool.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowError } from './errors.ts';
import { runFlow } from './flow.ts';
import { CookieJar } from './login/cookie-jar.ts';
import { headlessLogin } from './login/headless.ts';
import { jsonObserver, type Sink } from './render/json.ts';
import { TokenStore } from './store.ts';

export interface ConformanceInput {
  readonly serverUrl: string;
  readonly scenario: string;
  readonly context: Record<string, unknown> | undefined;
  readonly sink: Sink;
}

/** The client metadata URL the suite expects a CIMD-capable client to use as its client_id. */
export const CONFORMANCE_CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export async function runConformance(input: ConformanceInput): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-lab-client-conformance-'));
  const jar = new CookieJar();
  const clientId = str(input.context?.client_id);
  const clientSecret = str(input.context?.client_secret);
  input.sink.err(`conformance scenario ${input.scenario} against ${input.serverUrl}\n`);
  try {
    await runFlow({
      command: 'connect',
      serverUrl: input.serverUrl,
      transport: 'http',
      // The suite's mock servers speak either era; negotiate as a dual-era client does (server/discover first).
      protocolEra: 'auto',
      cookie: false,
      loginDriver: 'auto',
      ...(clientId !== undefined ? { clientId } : {}),
      ...(clientSecret !== undefined ? { clientSecret } : {}),
      clientMetadataUrl: str(input.context?.client_metadata_url) ?? CONFORMANCE_CLIENT_METADATA_URL,
      call: { tool: 'test-tool', args: {} },
      store: new TokenStore(dir),
      fetch: globalThis.fetch,
      observer: jsonObserver(input.sink),
      openBrowser: async () => false,
      userAgent: (ctx, url, listener) =>
        headlessLogin(ctx, { authorizationUrl: url, redirectUri: listener.redirectUri, credentials: undefined, driver: 'auto', jar }),
    });
    return 0;
  } catch (err) {
    if (!(err instanceof FlowError)) throw err;
    input.sink.err(`error: ${err.step ? `step "${err.step}" failed: ` : ''}${err.message}\n`);
    if (err.hint) input.sink.err(`hint: ${err.hint}\n`);
    return 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
