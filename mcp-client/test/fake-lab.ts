/**
 * A fake RS + AS on the fake network, enough for the orchestrator: PRM, and the test kit's fake issuer (AS
 * metadata, DCR, token endpoint with authorization_code and refresh_token) and fake MCP endpoint, which checks
 * bearer tokens and their scopes. The user agent is the fake issuer's approve-at-once authorization.
 */
import type { StepEvent } from '../src/events.ts';
import { runFlow, type FlowOptions } from '../src/flow.ts';
import type { UserAgent } from '../src/steps/authorize.ts';
import { TokenStore } from '../src/store.ts';
import { createFakeIssuer, type Grant } from '@mcp-lab/test-kit/fake-issuer';
import { fakeMcpAnswer } from '@mcp-lab/test-kit/fake-mcp';
import { fakeNetwork, json, type FakeNetwork, type SeenRequest } from './fake-http.ts';

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
  /** Tokens the fake RS accepts, with their grants (scopes); delete one to revoke it. */
  readonly tokens: Map<string, Grant>;
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
  const authorizations: string[][] = [];
  const issuer = opts.legacy === 'metadata' ? (opts.legacyIssuer ?? RS) : opts.legacy ? RS : ISSUER;
  const as = createFakeIssuer({
    issuer,
    clientId: 'dcr-client',
    metadata: (doc) => void (doc.authorization_response_iss_parameter_supported = opts.issParameterSupported ?? true),
  });
  const prmParam = opts.legacy ? '' : 'resource_metadata="https://rs.example.com/.well-known/oauth-protected-resource/mcp", ';
  const challenge = opts.legacy ? 'Bearer error="invalid_token", error_description="Missing Authorization header"' : `Bearer ${prmParam}scope="notes:read"`;

  if (!opts.legacy) {
    net.on('GET', `${RS}/.well-known/oauth-protected-resource/mcp`, json({ resource: MCP, authorization_servers: [ISSUER], scopes_supported: ['notes:read', 'notes:write'] }));
  }
  if (opts.legacy !== 'default-endpoints') {
    // A legacy AS on the RS origin publishes its document at the origin's root, whatever its issuer's path.
    net.on('GET', `${opts.legacy ? RS : ISSUER}/.well-known/oauth-authorization-server`, () => json(as.metadata()));
  }
  const toAs = (req: SeenRequest) => as.handle(new Request(req.url, { method: req.method, headers: req.headers, body: req.body }));
  net.on('POST', `${issuer}/register`, toAs);
  net.on('POST', `${issuer}/token`, (req) => {
    const clientId = new URLSearchParams(req.body).get('client_id') ?? '';
    if (opts.forgottenClients?.includes(clientId)) return json({ error: 'invalid_client', error_description: 'unknown client' }, 401);
    return toAs(req);
  });
  net.on('GET', MCP, new Response(null, { status: 405 }));
  net.on('DELETE', MCP, new Response(null, { status: 200 }));
  net.on('POST', MCP, (req) => {
    const auth = req.headers.get('authorization');
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const msg = JSON.parse(req.body) as { id?: number; method: string };
    const anonymous = opts.anonymousInitialize === true && !token && (msg.method === 'initialize' || msg.id === undefined);
    if (!token && !anonymous) return json({ error: 'unauthorized' }, 401, { 'www-authenticate': challenge });
    const grant = anonymous ? { scope: [] as readonly string[] } : as.tokens.get(token ?? '');
    if (!grant) return json({ error: 'invalid_token' }, 401, { 'www-authenticate': `${challenge}, error="invalid_token"` });
    return fakeMcpAnswer(req.method, req.body, {
      name: 'fake-rs',
      tools: ['notes_add'],
      sessionId: 'session-1',
      call: () =>
        opts.alwaysForbidCalls || !grant.scope.includes('notes:write')
          ? json({ error: 'insufficient_scope' }, 403, { 'www-authenticate': `Bearer error="insufficient_scope", ${prmParam}scope="notes:write"` })
          : { content: [{ type: 'text', text: 'added' }] },
    });
  });

  return {
    net,
    authorizations,
    tokens: as.tokens,
    userAgent(tamper) {
      return async (_ctx, url, listener) => {
        const scope = (url.searchParams.get('scope') ?? '').split(' ').filter(Boolean);
        authorizations.push(scope);
        if (opts.refuseOfflineAccess && scope.includes('offline_access')) {
          const err = new URLSearchParams({ error: 'invalid_scope', error_description: 'Invalid scopes', state: url.searchParams.get('state') ?? '', iss: issuer });
          return new URL(`${listener.redirectUri}?${err}`);
        }
        // The authorization request names the loopback redirect_uri the listener waits at.
        return as.authorize(url, tamper);
      };
    },
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
