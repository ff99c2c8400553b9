/**
 * The embedded IdP and the resource server as real child processes on free loopback ports, for integration tests:
 * the lab launcher's own code (@mcp-lab/launcher, launcher/src/stack.ts with profiles/embedded.json), with output captured.
 *
 *   test ──► embedded IdP (node embedded-idp/src/main.ts)   tokens for <rs>, <rs>/mcp and <rs>/sse
 *        └─► resource server (node mcp-server/src/main.ts)  trusts the IdP's issuer, finds its JWKS by RFC 8414
 */
import { afterAll, beforeAll } from 'vitest';
import { captureSink, loadProfile, startLab } from '@mcp-lab/launcher';

export interface EmbeddedStackOptions {
  /** Added to (and overriding) the RS environment, e.g. `{ MCP_AUDIENCE: 'https://other.example' }`. */
  readonly rsEnv?: Readonly<Record<string, string>>;
  /** Added to (and overriding) the IdP environment, e.g. `{ IDP_ACCESS_TOKEN_TTL_S: '60' }`. */
  readonly idpEnv?: Readonly<Record<string, string>>;
}

export interface EmbeddedStack {
  /** The IdP's issuer identifier, `http://127.0.0.1:<port>`. */
  readonly idpIssuer: string;
  /** The RS's public origin, `http://127.0.0.1:<port>` (MCP at `/mcp`, legacy SSE at `/sse`). */
  readonly rsUrl: string;
  /** Both processes' output so far, for failure messages. */
  output(): string;
  /** Stops both processes (RS first); safe to call twice. */
  stop(): Promise<void>;
}

/** Starts the embedded IdP, then the RS trusting it; resolves once both answer HTTP. */
export async function startEmbeddedStack(opts: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const sink = captureSink();
  try {
    const lab = await startLab(loadProfile('embedded'), {
      ...(opts.rsEnv === undefined ? {} : { rsEnv: opts.rsEnv }),
      ...(opts.idpEnv === undefined ? {} : { idpEnv: opts.idpEnv }),
      log: sink.stream,
    });
    return { idpIssuer: lab.issuer, rsUrl: lab.rsUrl, output: sink.text, stop: () => lab.stop() };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- output ---\n${sink.text()}`, { cause: err });
  }
}

/**
 * One embedded stack for the calling test file (or `describe`): started in `beforeAll`, stopped in `afterAll`.
 * Returns the accessor the tests read it through once it has started.
 */
export function useEmbeddedStack(opts: EmbeddedStackOptions = {}): () => EmbeddedStack {
  let stack: EmbeddedStack | undefined;
  beforeAll(async () => {
    stack = await startEmbeddedStack(opts);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });
  return () => {
    if (stack === undefined) throw new Error('the embedded stack has not started (use it inside a test)');
    return stack;
  };
}
