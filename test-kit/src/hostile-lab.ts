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
 * checks the code, PKCE S256 verifier, redirect_uri and resource (RFC 8707) before minting an opaque token (the
 * kit's fake issuer, with the switches as its hooks) the RS then accepts for a minimal Streamable HTTP MCP session
 * (initialize, tools/list).
 */
import { createServer, type IncomingMessage } from 'node:http';
import { BearerError, bearerChallenge } from '@mcp-lab/protocol';
import { createFakeIssuer, type FakeIssuer, type FakeIssuerOptions } from './fake-issuer.ts';
import { fakeMcpAnswer } from './fake-mcp.ts';
import { closeServer, json, listen, serve, type Handler } from './serve.ts';

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

/** The fake issuer with each switch as a hook on its metadata or its authorization response. */
function hostileIssuer(issuer: string, switches: HostileSwitches): FakeIssuer {
  const opts: FakeIssuerOptions = {
    issuer,
    scopes: SCOPE,
    prefix: 'hostile-',
    refreshTokens: false,
    expiresInS: 300,
    metadata: (doc) => {
      if (switches.issuerMismatch) doc.issuer = OTHER_ISSUER;
      if (switches.httpAuthorizationEndpoint) doc.authorization_endpoint = EVIL_AUTHORIZATION_ENDPOINT;
      if (switches.noS256 === 'plain') doc.code_challenge_methods_supported = ['plain'];
      else if (switches.noS256 === 'absent') delete doc.code_challenge_methods_supported;
    },
    authorizationResponse: (params) => {
      if (switches.stateMismatch) params.set('state', `not-${params.get('state') ?? ''}`);
      if (switches.issMismatch) params.set('iss', OTHER_ISSUER);
    },
  };
  return createFakeIssuer(opts);
}

/** The RS: a Bearer challenge naming its PRM (RFC 9728 §5.1), the PRM document, and MCP for tokens `as` minted. */
function hostileRs(rsOrigin: string, as: FakeIssuer, switches: HostileSwitches): Handler {
  const prmUrl = `${rsOrigin}/.well-known/oauth-protected-resource/mcp`;
  return async (request) => {
    const url = new URL(request.url);
    if (request.method === 'GET' && url.pathname.startsWith('/.well-known/oauth-protected-resource')) {
      return json({
        resource: switches.resourceMismatch ? OTHER_RESOURCE : `${rsOrigin}/mcp`,
        authorization_servers: [as.issuer],
        scopes_supported: SCOPE,
        bearer_methods_supported: ['header'],
      });
    }
    if (url.pathname !== '/mcp') return json({ error: 'not_found' }, 404);
    const authorization = request.headers.get('authorization');
    if (authorization === null) {
      return json({ error: 'unauthorized' }, 401, { 'www-authenticate': bearerChallenge({ resourceMetadata: prmUrl, scope: SCOPE }) as string });
    }
    const token = /^Bearer (.+)$/i.exec(authorization)?.[1];
    if (token === undefined || !as.tokens.has(token)) {
      const err = new BearerError('invalid_token', 'unknown access token');
      return json({ error: err.code }, err.status, { 'www-authenticate': bearerChallenge({ resourceMetadata: prmUrl, error: err }) as string });
    }
    return fakeMcpAnswer(request.method, await request.text(), { name: 'hostile-rs', tools: ['whoami'], sessionId: 'hostile-session' });
  };
}

/** Starts the hostile lab with the given misbehaviours. */
export async function startHostileLab(switches: HostileSwitches = {}): Promise<HostileLab> {
  const requests: RecordedRequest[] = [];
  const recording = (server: HostileServer, handler: () => Handler): Handler => async (request) => {
    const url = new URL(request.url);
    const body = await request.clone().text();
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => (headers[name] = value));
    requests.push({ server, method: request.method, url: url.href, path: url.pathname, headers, body });
    return handler()(request);
  };
  // The handlers need the origins, which are known once the servers listen; no request arrives before that.
  let rsHandler: Handler | undefined;
  let as: FakeIssuer | undefined;
  const [rs, asServer] = await Promise.all([
    serve(recording('rs', () => rsHandler!)),
    serve(recording('as', () => (request) => as!.handle(request))),
  ]);
  as = hostileIssuer(asServer.origin, switches);
  rsHandler = hostileRs(rs.origin, as, switches);

  // The sinkhole: an HTTP proxy that records what it was asked to reach and refuses it. Node's fetch tunnels
  // through CONNECT even for http URLs; absolute-form requests are recorded as well, for any other client.
  const egress = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sinkhole.invalid');
      requests.push({ server: 'egress', method: req.method ?? '?', url: url.href, path: url.pathname, headers: { ...req.headers }, body });
      res.writeHead(502).end('sinkhole');
    });
  });
  egress.on('connect', (req: IncomingMessage, socket) => {
    requests.push({ server: 'egress', method: 'CONNECT', url: req.url ?? '', path: '', headers: { ...req.headers }, body: '' });
    socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
  });
  const proxy = `http://127.0.0.1:${await listen(egress)}`;
  const issuer = as.issuer;

  return {
    mcpUrl: `${rs.origin}/mcp`,
    rsOrigin: rs.origin,
    issuer,
    authorizationEndpoint: switches.httpAuthorizationEndpoint ? EVIL_AUTHORIZATION_ENDPOINT : `${issuer}/authorize`,
    tokenEndpoint: `${issuer}/token`,
    registrationEndpoint: `${issuer}/register`,
    otherIssuer: OTHER_ISSUER,
    otherResource: OTHER_RESOURCE,
    requests,
    codes: as.codes,
    get tokens() {
      return [...as!.tokens.keys()];
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
      await Promise.all([rs.close(), asServer.close(), closeServer(egress)]);
    },
  };
}
