/**
 * A fake RS + AS on the fake network, enough for the orchestrator: PRM, AS metadata, DCR, token endpoint
 * (authorization_code and refresh_token), and a Streamable HTTP MCP endpoint that checks bearer tokens and
 * their scopes. The user agent is a function that "authorizes" by minting a code for the requested scope.
 */
import type { StepEvent } from '../src/events.ts';
import { runFlow, type FlowOptions } from '../src/flow.ts';
import type { UserAgent } from '../src/steps/authorize.ts';
import { TokenStore } from '../src/store.ts';
import { fakeNetwork, json, type FakeNetwork, type Handler } from './fake-http.ts';

export const RS = 'https://rs.example.com';
export const MCP = `${RS}/mcp`;
export const ISSUER = 'https://as.example.com';

export interface FakeLabOptions {
  /** Tool calls always answer 403 insufficient_scope (to exhaust step-ups). */
  readonly alwaysForbidCalls?: boolean;
  readonly issParameterSupported?: boolean;
  /** The user agent answers invalid_scope when offline_access is requested (as Keycloak does for some clients). */
  readonly refuseOfflineAccess?: boolean;
  /**
   * A 2025-03-26-era server: no PRM and no resource_metadata in its challenges; the AS lives on the RS origin,
   * with RFC 8414 metadata at `${RS}/.well-known/oauth-authorization-server` (`metadata`, issuer `legacyIssuer`,
   * default RS) or without any (`default-endpoints`: ${RS}/authorize, /token, /register).
   */
  readonly legacy?: 'metadata' | 'default-endpoints';
  readonly legacyIssuer?: string;
  /** The MCP endpoint lets initialize through without a token (so the probe passes); other requests need one. */
  readonly anonymousInitialize?: boolean;
  /** Client ids the token endpoint answers 401 invalid_client for (an AS that forgot a registration). */
  readonly forgottenClients?: readonly string[];
}

export interface FakeLab {
  readonly net: FakeNetwork;
  /** Scopes requested in each authorization request, in order. */
  readonly authorizations: string[][];
  /** A user agent that grants what was asked; `tamper` can rewrite the callback parameters. */
  userAgent(tamper?: (params: URLSearchParams) => void): UserAgent;
  /** Tokens the fake RS accepts, with their scopes. */
  readonly tokens: Map<string, string[]>;
}

/** RFC 8414 metadata of an authorization server at `issuer` with the usual endpoints, PKCE S256 and DCR. */
export function asMetadataDocument(issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    ...extra,
  };
}

export function fakeLab(opts: FakeLabOptions = {}): FakeLab {
  const net = fakeNetwork();
  const codes = new Map<string, { scope: string[]; resource: string; challenge: string }>();
  const tokens = new Map<string, string[]>();
  const refreshTokens = new Map<string, string[]>();
  const authorizations: string[][] = [];
  let n = 0;
  const issuer = opts.legacy === 'metadata' ? (opts.legacyIssuer ?? RS) : opts.legacy ? RS : ISSUER;
  const prmParam = opts.legacy ? '' : 'resource_metadata="https://rs.example.com/.well-known/oauth-protected-resource/mcp", ';
  const challenge = opts.legacy ? 'Bearer error="invalid_token", error_description="Missing Authorization header"' : `Bearer ${prmParam}scope="notes:read"`;

  if (!opts.legacy) {
    net.on('GET', `${RS}/.well-known/oauth-protected-resource/mcp`, json({ resource: MCP, authorization_servers: [ISSUER], scopes_supported: ['notes:read', 'notes:write'] }));
  }
  if (opts.legacy !== 'default-endpoints') {
    net.on('GET', `${opts.legacy ? RS : ISSUER}/.well-known/oauth-authorization-server`, json(asMetadataDocument(issuer, {
      scopes_supported: ['notes:read', 'notes:write', 'offline_access'],
      authorization_response_iss_parameter_supported: opts.issParameterSupported ?? true,
    })));
  }
  net.on('POST', `${issuer}/register`, (req) => {
    const body = JSON.parse(req.body) as Record<string, unknown>;
    return json({ ...body, client_id: 'dcr-client' }, 201);
  });
  net.on('POST', `${issuer}/token`, (req) => {
    const p = new URLSearchParams(req.body);
    if (opts.forgottenClients?.includes(p.get('client_id') ?? '')) return json({ error: 'invalid_client', error_description: 'unknown client' }, 401);
    let scope: string[];
    if (p.get('grant_type') === 'authorization_code') {
      const c = codes.get(p.get('code') ?? '');
      if (!c || !p.get('code_verifier') || p.get('resource') !== c.resource) return json({ error: 'invalid_grant' }, 400);
      codes.delete(p.get('code') ?? '');
      scope = c.scope;
    } else {
      const s = refreshTokens.get(p.get('refresh_token') ?? '');
      if (!s) return json({ error: 'invalid_grant' }, 400);
      scope = s;
    }
    const at = `access-token-${++n}`;
    const rt = `refresh-token-${n}`;
    tokens.set(at, scope);
    refreshTokens.set(rt, scope);
    return json({ access_token: at, token_type: 'Bearer', expires_in: 3600, refresh_token: rt, scope: scope.filter((s) => s !== 'offline_access').join(' ') });
  });
  net.on('GET', MCP, new Response(null, { status: 405 }));
  net.on('DELETE', MCP, new Response(null, { status: 200 }));
  net.on('POST', MCP, mcpEndpoint(opts, tokens, challenge, prmParam));

  return {
    net,
    authorizations,
    tokens,
    userAgent(tamper) {
      return async (_ctx, url, listener) => {
        const scope = (url.searchParams.get('scope') ?? '').split(' ').filter(Boolean);
        authorizations.push(scope);
        if (opts.refuseOfflineAccess && scope.includes('offline_access')) {
          const err = new URLSearchParams({ error: 'invalid_scope', error_description: 'Invalid scopes', state: url.searchParams.get('state') ?? '', iss: issuer });
          return new URL(`${listener.redirectUri}?${err}`);
        }
        const code = `code-${++n}`;
        codes.set(code, { scope, resource: url.searchParams.get('resource') ?? '', challenge: url.searchParams.get('code_challenge') ?? '' });
        const params = new URLSearchParams({ code, state: url.searchParams.get('state') ?? '', iss: issuer });
        tamper?.(params);
        return new URL(`${listener.redirectUri}?${params}`);
      };
    },
  };
}

/** The fake RS's Streamable HTTP endpoint: checks the bearer token and, for tools/call, its scopes. */
function mcpEndpoint(opts: FakeLabOptions, tokens: ReadonlyMap<string, string[]>, challenge: string, prmParam: string): Handler {
  return (req) => {
    const auth = req.headers.get('authorization');
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const msg = JSON.parse(req.body) as { id?: number; method: string; params?: Record<string, unknown> };
    const anonymous = opts.anonymousInitialize === true && !token && (msg.method === 'initialize' || msg.id === undefined);
    if (!token && !anonymous) return json({ error: 'unauthorized' }, 401, { 'www-authenticate': challenge });
    const scopes = anonymous ? [] : tokens.get(token ?? '');
    if (!scopes) return json({ error: 'invalid_token' }, 401, { 'www-authenticate': `${challenge}, error="invalid_token"` });
    if (msg.id === undefined) return new Response(null, { status: 202 });
    const reply = (result: unknown) => json({ jsonrpc: '2.0', id: msg.id, result }, 200, { 'mcp-session-id': 'session-1' });
    switch (msg.method) {
      case 'initialize':
        return reply({ protocolVersion: msg.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'fake-rs', version: '1.0.0' } });
      case 'tools/list':
        return reply({ tools: [{ name: 'notes_add', inputSchema: { type: 'object' } }] });
      case 'tools/call':
        if (opts.alwaysForbidCalls || !scopes.includes('notes:write')) {
          return json({ error: 'insufficient_scope' }, 403, {
            'www-authenticate': `Bearer error="insufficient_scope", ${prmParam}scope="notes:write"`,
          });
        }
        return reply({ content: [{ type: 'text', text: 'added' }] });
      default:
        return json({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'no such method' } });
    }
  };
}

/**
 * Runs the whole flow (`tools` over Streamable HTTP) against a fake lab with a token store in `storeDir`, and
 * collects what it reports.
 */
export function runFakeFlow(lab: FakeLab, storeDir: string, userAgent: UserAgent, extra: Partial<FlowOptions> = {}) {
  const events: StepEvent[] = [];
  const warnings: string[] = [];
  const infos: string[] = [];
  const promise = runFlow({
    command: 'tools',
    serverUrl: MCP,
    transport: 'http',
    cookie: false,
    loginDriver: 'auto',
    store: new TokenStore(storeDir),
    fetch: lab.net.fetch,
    observer: {
      step: (e) => events.push(e),
      diagnostic: (d) => {
        (d.level === 'warn' ? warnings : infos).push(d.message);
      },
    },
    openBrowser: async () => false,
    userAgent,
    ...extra,
  });
  return {
    events,
    warnings,
    infos,
    promise,
    steps: () => events.map((e) => `${e.step}:${e.status}`),
    event: (name: string) => events.find((e) => e.step === name),
  };
}
