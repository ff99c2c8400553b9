import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/**
 * A throwaway RS256 issuer for the bench: a key pair, a loopback server that publishes its JWKS (RFC 7517) and
 * RFC 8414 metadata, and a minting function. It stands in for the IdP so that token issuance is not measured.
 */
export interface BenchIssuer {
  /** Issuer identifier, the origin of the loopback server (no trailing slash). */
  readonly issuer: string;
  readonly jwksUrl: string;
  /** Signs an access token (RFC 9068 shape: iss, sub, aud, scope, client_id, iat, exp). */
  mint(claims: MintOptions): Promise<string>;
  /** 'hang': every request is held unanswered (an IdP outage that times out); 'up' answers again. */
  setOutage(mode: 'up' | 'hang'): void;
  /** Requests the issuer received (any path). */
  requests(): number;
  close(): Promise<void>;
}

export interface MintOptions {
  readonly audience: string | readonly string[];
  readonly scope: string;
  readonly subject?: string;
  readonly clientId?: string;
  readonly email?: string;
  readonly ttlS?: number;
  /** `iat` in seconds (default now); with `ttlS`, `exp` = iat + ttlS. For a bench that runs an injected clock. */
  readonly issuedAtS?: number;
}

const KID = 'bench-rs256';

/** Starts the issuer on 127.0.0.1 with an OS-assigned port. */
export async function startBenchIssuer(): Promise<BenchIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  let origin = '';
  let outage: 'up' | 'hang' = 'up';
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    // Held until the client gives up or the server closes; nothing is written.
    if (outage === 'hang') return;
    const path = (req.url ?? '/').split('?')[0];
    let body: unknown;
    if (path === '/jwks.json') body = { keys: [jwk] };
    else if (path === '/.well-known/oauth-authorization-server' || path === '/.well-known/openid-configuration') {
      body = authorizationServerMetadata(origin);
    }
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
    res.end(JSON.stringify(body));
  });
  await listen(server);
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: origin,
    jwksUrl: `${origin}/jwks.json`,
    mint: (opts) => mint(privateKey, origin, opts),
    setOutage: (mode) => {
      outage = mode;
    },
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** RFC 8414 §2 metadata; only `issuer` and `jwks_uri` matter to a resource server, the rest keeps the document valid. */
function authorizationServerMetadata(origin: string): Record<string, unknown> {
  return {
    issuer: origin,
    jwks_uri: `${origin}/jwks.json`,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: ['notes:read', 'notes:write'],
  };
}

function mint(key: CryptoKey, issuer: string, opts: MintOptions): Promise<string> {
  const claims: Record<string, unknown> = { scope: opts.scope, client_id: opts.clientId ?? 'bench-client' };
  if (opts.email !== undefined) claims.email = opts.email;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'at+jwt' })
    .setIssuer(issuer)
    .setSubject(opts.subject ?? 'bench-user')
    .setAudience(typeof opts.audience === 'string' ? opts.audience : [...opts.audience])
    .setIssuedAt(opts.issuedAtS ?? Math.floor(Date.now() / 1000))
    .setExpirationTime((opts.issuedAtS ?? Math.floor(Date.now() / 1000)) + (opts.ttlS ?? 3600))
    .sign(key);
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}
