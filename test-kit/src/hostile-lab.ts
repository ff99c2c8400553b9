/**
 * A hostile MCP lab on loopback for end-to-end refusal tests of mcp-lab-client: an MCP resource server ("rs") and
 * an authorization server ("as") as plain node:http servers on port 0, each misbehaviour behind a switch, and a
 * sinkhole HTTP proxy ("egress") that the CLI is pointed at for every non-loopback host, so that a request to a
 * hostile endpoint such as http://evil.example is caught and recorded instead of resolved. Every request any of
 * the three receives is recorded (method, URL, headers, body) so a test can assert what was, and was not, sent.
 *
 * Honest behaviour: the RS answers an unauthenticated MCP request with 401 and a Bearer challenge naming its
 * path-suffixed Protected Resource Metadata (RFC 9728 §5.1) and serves that document; the AS serves RFC 8414
 * metadata, open Dynamic Client Registration (RFC 7591), an authorization endpoint that redirects straight back
 * to the redirect_uri with a code, `state` and the RFC 9207 `iss` (no login page), and a token endpoint that
 * checks the code, PKCE S256 verifier, redirect_uri and resource (RFC 8707) before minting an opaque token the RS
 * then accepts for a minimal Streamable HTTP MCP session (initialize, tools/list).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BearerError, bearerChallenge } from '@mcp-lab/protocol';

/** One misbehaviour per switch; none set = an honest lab. */
export interface HostileSwitches {
  /** The authorization response carries another `state` than the request's (OAuth 2.1 §4.1.2). */
  readonly stateMismatch?: boolean;
  /** The authorization response carries the `iss` of another authorization server (RFC 9207 §2.4). */
  readonly issMismatch?: boolean;
  /** The RFC 8414 document's `issuer` differs from the issuer it was fetched for (RFC 8414 §3.3). */
  readonly issuerMismatch?: boolean;
  /** The PRM document's `resource` names another resource than the MCP endpoint (RFC 9728 §3.3). */
  readonly resourceMismatch?: boolean;
  /** No PKCE S256: `code_challenge_methods_supported` is `['plain']` or absent. */
  readonly noS256?: 'plain' | 'absent';
  /** `authorization_endpoint` is `http://evil.example/authorize` (plain http, not loopback; OAuth 2.1 §1.5). */
  readonly httpAuthorizationEndpoint?: boolean;
}

export type HostileServer = 'rs' | 'as' | 'egress';

export interface RecordedRequest {
  readonly server: HostileServer;
  readonly method: string;
  /** Absolute URL as the client addressed it (for `egress`: the proxy request target, e.g. `evil.example:80`). */
  readonly url: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface HostileLab {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly mcpUrl: string;
  readonly rsOrigin: string;
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly registrationEndpoint: string;
  /** Issuer the `issMismatch` / `issuerMismatch` switches claim; never contacted. */
  readonly otherIssuer: string;
  /** `resource` the `resourceMismatch` switch publishes; never contacted. */
  readonly otherResource: string;
  /** Every request received, in order. */
  readonly requests: readonly RecordedRequest[];
  /** Authorization codes the AS handed out (to prove none of them travelled anywhere afterwards). */
  readonly codes: readonly string[];
  /** Access tokens the AS minted. */
  readonly tokens: readonly string[];
  /**
   * Environment for the CLI subprocess: Node's built-in env proxy support sends every request to a host other
   * than loopback through the sinkhole, which records it and answers 502. Nothing leaves the machine.
   */
  readonly clientEnv: Readonly<Record<string, string>>;
  requestsTo(server: HostileServer): RecordedRequest[];
  close(): Promise<void>;
}

const EVIL_AUTHORIZATION_ENDPOINT = 'http://evil.example/authorize';
const OTHER_ISSUER = 'https://other-issuer.example';
const OTHER_RESOURCE = 'https://other-resource.example/mcp';
const SCOPE = ['notes:read'];

interface IssuedCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly resource: string;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(value));
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** Starts the hostile lab with the given misbehaviours. */
export async function startHostileLab(switches: HostileSwitches = {}): Promise<HostileLab> {
  const requests: RecordedRequest[] = [];
  const codes = new Map<string, IssuedCode>();
  const issuedCodes: string[] = [];
  const tokens = new Set<string>();
  let n = 0;
  // Filled in once the servers listen; the handlers only run after that.
  let rsOrigin = '';
  let issuer = '';

  const record = async (server: HostileServer, origin: string, req: IncomingMessage): Promise<{ url: URL; body: string }> => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', origin);
    requests.push({ server, method: req.method ?? '?', url: url.href, path: url.pathname, headers: { ...req.headers }, body });
    return { url, body };
  };

  const prmUrl = () => `${rsOrigin}/.well-known/oauth-protected-resource/mcp`;

  const rs = createServer((req, res) => {
    void record('rs', rsOrigin, req).then(({ url, body }) => {
      if (req.method === 'GET' && url.pathname.startsWith('/.well-known/oauth-protected-resource')) {
        sendJson(res, 200, {
          resource: switches.resourceMismatch ? OTHER_RESOURCE : `${rsOrigin}/mcp`,
          authorization_servers: [issuer],
          scopes_supported: SCOPE,
          bearer_methods_supported: ['header'],
        });
        return;
      }
      if (url.pathname !== '/mcp') {
        sendJson(res, 404, { error: 'not_found' });
        return;
      }
      const authorization = req.headers.authorization;
      if (authorization === undefined) {
        const challenge = bearerChallenge({ resourceMetadata: prmUrl(), scope: SCOPE }) as string;
        sendJson(res, 401, { error: 'unauthorized' }, { 'www-authenticate': challenge });
        return;
      }
      const token = /^Bearer (.+)$/i.exec(authorization)?.[1];
      if (token === undefined || !tokens.has(token)) {
        const err = new BearerError('invalid_token', 'unknown access token');
        sendJson(res, err.status, { error: err.code }, { 'www-authenticate': bearerChallenge({ resourceMetadata: prmUrl(), error: err }) as string });
        return;
      }
      mcp(req.method ?? '', body, res);
    }, (err: unknown) => res.destroy(err as Error));
  });

  const as = createServer((req, res) => {
    void record('as', issuer, req).then(({ url, body }) => {
      const route = `${req.method} ${url.pathname}`;
      switch (route) {
        case 'GET /.well-known/oauth-authorization-server':
          sendJson(res, 200, metadata());
          return;
        case 'POST /register': {
          const meta = JSON.parse(body) as Record<string, unknown>;
          sendJson(res, 201, { ...meta, client_id: `hostile-client-${++n}`, client_id_issued_at: Math.floor(Date.now() / 1000), token_endpoint_auth_method: 'none' });
          return;
        }
        case 'GET /authorize':
          authorizeRedirect(url, res);
          return;
        case 'POST /token':
          token(new URLSearchParams(body), res);
          return;
        default:
          sendJson(res, 404, { error: 'not_found' });
      }
    }, (err: unknown) => res.destroy(err as Error));
  });

  // The sinkhole: an HTTP proxy that records what it was asked to reach and refuses it. Node's fetch tunnels
  // through CONNECT even for http URLs; absolute-form requests are recorded as well, for any other client.
  const egress = createServer((req, res) => {
    void record('egress', 'http://sinkhole.invalid', req).then(() => res.writeHead(502).end('sinkhole'), (err: unknown) => res.destroy(err as Error));
  });
  egress.on('connect', (req: IncomingMessage, socket) => {
    requests.push({ server: 'egress', method: 'CONNECT', url: req.url ?? '', path: '', headers: { ...req.headers }, body: '' });
    socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
  });

  function metadata(): Record<string, unknown> {
    const doc: Record<string, unknown> = {
      issuer: switches.issuerMismatch ? OTHER_ISSUER : issuer,
      authorization_endpoint: switches.httpAuthorizationEndpoint ? EVIL_AUTHORIZATION_ENDPOINT : `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      registration_endpoint: `${issuer}/register`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: SCOPE,
      authorization_response_iss_parameter_supported: true,
    };
    if (switches.noS256 === 'plain') doc.code_challenge_methods_supported = ['plain'];
    else if (switches.noS256 === undefined) doc.code_challenge_methods_supported = ['S256'];
    return doc;
  }

  /** No login page: straight back to the redirect_uri with a code, as an already-logged-in user would be. */
  function authorizeRedirect(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const redirectUri = q.get('redirect_uri');
    const clientId = q.get('client_id');
    if (redirectUri === null || clientId === null) {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'client_id and redirect_uri are required' });
      return;
    }
    const code = `hostile-code-${randomBytes(12).toString('base64url')}`;
    codes.set(code, { clientId, redirectUri, codeChallenge: q.get('code_challenge') ?? '', resource: q.get('resource') ?? '' });
    issuedCodes.push(code);
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    target.searchParams.set('state', switches.stateMismatch ? `not-${q.get('state') ?? ''}` : (q.get('state') ?? ''));
    target.searchParams.set('iss', switches.issMismatch ? OTHER_ISSUER : issuer);
    res.writeHead(302, { location: target.href, 'cache-control': 'no-store' }).end();
  }

  function token(p: URLSearchParams, res: ServerResponse): void {
    const code = p.get('code') ?? '';
    const issued = codes.get(code);
    codes.delete(code);
    const ok =
      issued !== undefined &&
      p.get('grant_type') === 'authorization_code' &&
      p.get('client_id') === issued.clientId &&
      p.get('redirect_uri') === issued.redirectUri &&
      p.get('resource') === issued.resource &&
      s256(p.get('code_verifier') ?? '') === issued.codeChallenge;
    if (!ok) {
      sendJson(res, 400, { error: 'invalid_grant' });
      return;
    }
    // Opaque and unsigned: this AS is not to be trusted, and the test only needs the RS to recognise it.
    const accessToken = `hostile-at-${randomBytes(16).toString('base64url')}`;
    tokens.add(accessToken);
    sendJson(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 300, scope: SCOPE.join(' ') });
  }

  /** The smallest Streamable HTTP MCP server the SDK client accepts: JSON answers, one session. */
  function mcp(method: string, body: string, res: ServerResponse): void {
    if (method === 'DELETE') {
      res.writeHead(200).end();
      return;
    }
    if (method !== 'POST') {
      res.writeHead(405, { allow: 'POST, DELETE' }).end();
      return;
    }
    const msg = JSON.parse(body) as { id?: number | string; method: string; params?: { protocolVersion?: string } };
    if (msg.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const reply = (result: unknown) => sendJson(res, 200, { jsonrpc: '2.0', id: msg.id, result }, { 'mcp-session-id': 'hostile-session' });
    switch (msg.method) {
      case 'initialize':
        reply({ protocolVersion: msg.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'hostile-rs', version: '0.0.0' } });
        return;
      case 'tools/list':
        reply({ tools: [{ name: 'whoami', inputSchema: { type: 'object' } }] });
        return;
      default:
        sendJson(res, 200, { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'method not found' } });
    }
  }

  const [rsPort, asPort, egressPort] = await Promise.all([listen(rs), listen(as), listen(egress)]);
  rsOrigin = `http://127.0.0.1:${rsPort}`;
  issuer = `http://127.0.0.1:${asPort}`;
  const proxy = `http://127.0.0.1:${egressPort}`;

  return {
    mcpUrl: `${rsOrigin}/mcp`,
    rsOrigin,
    issuer,
    authorizationEndpoint: switches.httpAuthorizationEndpoint ? EVIL_AUTHORIZATION_ENDPOINT : `${issuer}/authorize`,
    tokenEndpoint: `${issuer}/token`,
    registrationEndpoint: `${issuer}/register`,
    otherIssuer: OTHER_ISSUER,
    otherResource: OTHER_RESOURCE,
    requests,
    codes: issuedCodes,
    get tokens() {
      return [...tokens];
    },
    clientEnv: {
      NODE_USE_ENV_PROXY: '1',
      HTTP_PROXY: proxy,
      HTTPS_PROXY: proxy,
      http_proxy: proxy,
      https_proxy: proxy,
      NO_PROXY: '127.0.0.1,localhost,::1',
      no_proxy: '127.0.0.1,localhost,::1',
      // Node 22 flags its env-proxy agent as experimental on stderr; keep the CLI's stderr to its own messages.
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --disable-warning=UNDICI-EHPA`.trim(),
    },
    requestsTo: (server) => requests.filter((r) => r.server === server),
    close: async () => {
      await Promise.all([close(rs), close(as), close(egress)]);
    },
  };
}
