/**
 * The lab's resource server as a real child process (`node mcp-server/src/main.ts`) on a loopback port, configured
 * by environment only, as it is deployed. Resolves once its RFC 9728 metadata answers.
 */
import { fileURLToPath } from 'node:url';
import { startProcess, type RunningProcess } from './processes.ts';

export const RS_MAIN = fileURLToPath(new URL('../../mcp-server/src/main.ts', import.meta.url));

export interface RsProcessOptions {
  /** MCP_ISSUER: the authorization server the RS trusts. */
  readonly issuer: string;
  /** The loopback port it listens on. */
  readonly port: number;
  /** MCP_PUBLIC_URL; defaults to `http://127.0.0.1:<port>`. */
  readonly publicUrl?: string;
  /** Added to (and overriding) the environment above. */
  readonly env?: Readonly<Record<string, string>>;
  readonly name?: string;
}

export function startRsProcess(opts: RsProcessOptions): Promise<RunningProcess> {
  const rsUrl = `http://127.0.0.1:${opts.port}`;
  return startProcess({
    command: process.execPath,
    args: [RS_MAIN],
    env: {
      MCP_ISSUER: opts.issuer,
      MCP_HOST: '127.0.0.1',
      MCP_PORT: String(opts.port),
      MCP_PUBLIC_URL: opts.publicUrl ?? rsUrl,
      MCP_LOG_LEVEL: process.env.MCP_LOG_LEVEL ?? 'warn',
      ...opts.env,
    },
    readyUrl: `${rsUrl}/.well-known/oauth-protected-resource`,
    name: opts.name ?? 'mcp-server',
  });
}
