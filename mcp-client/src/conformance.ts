/**
 * Conformance mode: run by the official MCP conformance suite (@modelcontextprotocol/conformance), which sets
 * MCP_CONFORMANCE_SCENARIO (and MCP_CONFORMANCE_CONTEXT) and passes the server URL as the last argument.
 * It is the normal flow — same steps, same checks — with three differences: there is no person, so the
 * authorization URL is followed with fetch (manual redirects) until the redirect to the loopback redirect_uri;
 * the store is a fresh temporary directory; and it ends with era negotiation (server/discover, else initialize)
 * → tools/list → tools/call of the tools the scenario names: each of its context's `toolCalls` in order, else every
 * tool its server lists (required arguments get placeholders of their schema type).
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
import type { ListedTool, ToolCall } from './flow/types.ts';
import type { ElicitationAnswer, ElicitationRequest } from './steps/era.ts';

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

/** The calls a scenario names in its context (`toolCalls: [{ name, arguments }]`), in order. */
export function contextToolCalls(context: Record<string, unknown> | undefined): ToolCall[] {
  const calls = context?.toolCalls;
  if (!Array.isArray(calls)) return [];
  return calls.flatMap((c: unknown) => {
    const { name, arguments: args } = (c ?? {}) as { name?: unknown; arguments?: unknown };
    return typeof name === 'string' ? [{ tool: name, args: args !== null && typeof args === 'object' ? (args as Record<string, unknown>) : {} }] : [];
  });
}

/** A placeholder value of a JSON Schema property's type (for the required arguments of the chosen tool). */
function placeholder(schema: unknown): unknown {
  const type = (schema as { type?: unknown } | undefined)?.type;
  switch (Array.isArray(type) ? type[0] : type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return 'test';
  }
}

/**
 * Conformance mode accepts an elicitation with a placeholder for each property of the requested schema that has no
 * default (no person to ask; the scenarios check the multi-round-trip mechanics, not the answer).
 */
export function acceptElicitation(request: ElicitationRequest): ElicitationAnswer {
  const properties = (request.requestedSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  const value = (schema: unknown): string | number | boolean | string[] => {
    const type = (schema as { type?: unknown } | undefined)?.type;
    return type === 'number' || type === 'integer' ? 1 : type === 'boolean' ? true : type === 'array' ? [] : 'test';
  };
  // A property with a default is left out: the SDK applies the schema's defaults (SEP-1034, `applyDefaults`).
  const open = Object.entries(properties).filter(([, v]) => (v as { default?: unknown } | undefined)?.default === undefined);
  return { action: 'accept', content: Object.fromEntries(open.map(([k, v]) => [k, value(v)])) };
}

/** A JSON-RPC "method not found" (-32601) anywhere in an error's cause chain. */
function methodNotFound(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if ((e as { code?: unknown }).code === -32601) return true;
  return false;
}

/**
 * Without named calls, the scenario's server names the tools: every tool tools/list announced (the SDK has already
 * left out tools it rejects, e.g. an invalid `x-mcp-header`), in order, with a placeholder for each required argument.
 */
export function chooseConformanceCalls(tools: readonly ListedTool[]): ToolCall[] {
  return tools.map((tool) => {
    const schema = (tool.inputSchema ?? {}) as { properties?: Record<string, unknown>; required?: unknown };
    const required = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : [];
    return { tool: tool.name, args: Object.fromEntries(required.map((r) => [r, placeholder(schema.properties?.[r])])) };
  });
}

export async function runConformance(input: ConformanceInput): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-lab-client-conformance-'));
  const jar = new CookieJar();
  const clientId = str(input.context?.client_id);
  const clientSecret = str(input.context?.client_secret);
  input.sink.err(`conformance scenario ${input.scenario} against ${input.serverUrl}\n`);
  // The scenario's calls in order (later ones take the warm path with the stored token), else one chosen call.
  const named = contextToolCalls(input.context);
  const runs: Array<ToolCall | undefined> = named.length > 0 ? named : [undefined];
  try {
    for (const call of runs) await runFlow({
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
      ...(call !== undefined ? { call } : { chooseCalls: chooseConformanceCalls }),
      elicitation: acceptElicitation,
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
    if (named.length === 0 && err.step === 'tools-call' && methodNotFound(err)) {
      // The call was our choice, not the scenario's, and its server implements no tools/call: nothing to score.
      input.sink.err(`note: the scenario's server does not implement tools/call (JSON-RPC -32601); the listed tools were the test\n`);
      return 0;
    }
    input.sink.err(`error: ${err.step ? `step "${err.step}" failed: ` : ''}${err.message}\n`);
    if (err.hint) input.sink.err(`hint: ${err.hint}\n`);
    return 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
