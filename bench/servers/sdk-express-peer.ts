/**
 * Target (b), the peer: the MCP SDK's own Express example style — `createMcpExpressApp`, `requireBearerAuth` with a
 * jose verifier against a remote JWKS, and a stateless Streamable HTTP transport with a new McpServer + transport
 * per request (as in the SDK's simpleStatelessStreamableHttp example).
 */
import type { Request, Response } from 'express';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { loadPeerConfig } from './env.ts';

const config = loadPeerConfig(process.env);
const jwks = createRemoteJWKSet(config.jwksUrl);

/** RFC 9068 access token validation with jose; any JOSE/JWT failure is the SDK's `invalid_token`. */
async function verifyAccessToken(token: string): Promise<AuthInfo> {
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: ['RS256'],
    });
    return {
      token,
      clientId: typeof payload.client_id === 'string' ? payload.client_id : '',
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
      ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
      resource: new URL(config.audience),
      extra: { iss: payload.iss, sub: payload.sub, aud: payload.aud, email: payload.email },
    };
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) throw new InvalidTokenError(err.message);
    throw err;
  }
}

function buildServer(): McpServer {
  const server = new McpServer({ name: 'bench-sdk-peer', version: '0.1.0' });
  server.registerTool('whoami', { description: 'Who the access token says you are' }, async function whoami(extra) {
    const auth = extra.authInfo;
    const claims = auth?.extra ?? {};
    const text = JSON.stringify({
      iss: claims.iss,
      sub: claims.sub,
      aud: claims.aud,
      permissions: auth?.scopes ?? [],
      client_id: auth?.clientId,
      email: claims.email,
      exp: auth?.expiresAt,
    });
    return { content: [{ type: 'text', text }] };
  });
  return server;
}

const app = createMcpExpressApp({ host: '127.0.0.1' });
const bearer = requireBearerAuth({
  verifier: { verifyAccessToken },
  requiredScopes: ['notes:read'],
  resourceMetadataUrl: `http://127.0.0.1:${config.port}/.well-known/oauth-protected-resource/mcp`,
  expectedResource: new URL(config.audience),
});

app.post('/mcp', bearer, async function statelessMcp(req: Request, res: Response) {
  const server = buildServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', function closePerRequestServer() {
    void transport.close();
    void server.close();
  });
  try {
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch (err) {
    process.stderr.write(`MCP request failed: ${(err as Error).message}\n`);
    if (!res.headersSent) {
      res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
    }
  }
});
app.get('/health', function health(_req: Request, res: Response) {
  res.json({ ok: true });
});

const httpServer = app.listen(config.port, '127.0.0.1');
process.on('SIGTERM', function closeOnSigterm() {
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections();
});
