import { createServer } from 'node:http';
import { buildIdp, loadConfig, type Idp, type IdpEnv } from '@mcp-lab/embedded-idp';
import { closeServer, listen } from './serve.ts';

export interface RunningIdp {
  readonly issuer: string;
  readonly idp: Idp;
  close(): Promise<void>;
}

/**
 * Starts the embedded IdP in this process on a free loopback port: listens on port 0 first, then builds the IdP
 * with the issuer of that port. `env` adds IDP_* settings (IDP_RESOURCES, IDP_SCOPES, …); logs are silent unless
 * IDP_LOG_LEVEL says otherwise.
 */
export async function startEmbeddedIdp(env: IdpEnv = {}): Promise<RunningIdp> {
  const server = createServer();
  const port = await listen(server);
  const config = loadConfig({ IDP_LOG_LEVEL: 'silent', ...env, IDP_ISSUER: `http://127.0.0.1:${port}`, IDP_PORT: String(port) });
  const idp = await buildIdp(config);
  server.on('request', idp.handler);
  return { issuer: idp.issuer, idp, close: () => closeServer(server) };
}
