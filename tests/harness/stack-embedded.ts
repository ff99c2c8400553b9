/**
 * The embedded IdP and the resource server as real child processes on free loopback ports, for integration tests.
 *
 *   test ──► embedded IdP (node embedded-idp/src/main.ts)   tokens for <rs>/mcp and <rs>/sse
 *        └─► resource server (node mcp-server/src/main.ts)  trusts the IdP's issuer, finds its JWKS by RFC 8414
 */
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';
import { startProcess, type RunningProcess } from './processes.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

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
  const [idpPort, rsPort] = await Promise.all([freePort(), freePort()]);
  const idpIssuer = `http://127.0.0.1:${idpPort}`;
  const rsUrl = `http://127.0.0.1:${rsPort}`;

  const running: RunningProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const p of running.splice(0).reverse()) await p.stop();
  };
  try {
    running.push(
      await startProcess({
        name: 'embedded-idp',
        command: process.execPath,
        args: [`${REPO}embedded-idp/src/main.ts`],
        env: {
          IDP_HOST: '127.0.0.1',
          IDP_PORT: String(idpPort),
          IDP_ISSUER: idpIssuer,
          IDP_RESOURCES: [rsUrl, `${rsUrl}/mcp`, `${rsUrl}/sse`].join(','),
          IDP_LOG_LEVEL: 'warn',
          ...opts.idpEnv,
        },
        readyUrl: `${idpIssuer}/.well-known/oauth-authorization-server`,
      }),
    );
    running.push(
      await startProcess({
        name: 'mcp-server',
        command: process.execPath,
        args: [`${REPO}mcp-server/src/main.ts`],
        env: {
          MCP_HOST: '127.0.0.1',
          MCP_PORT: String(rsPort),
          MCP_PUBLIC_URL: rsUrl,
          MCP_ISSUER: idpIssuer,
          MCP_LOG_LEVEL: 'warn',
          ...opts.rsEnv,
        },
        readyUrl: `${rsUrl}/.well-known/oauth-protected-resource`,
      }),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const procs = [...running];
  return { idpIssuer, rsUrl, output: () => procs.map((p) => p.output()).join('\n'), stop };
}
