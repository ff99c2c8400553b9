import { createFakeIssuer, type FakeIssuer } from '@mcp-lab/test-kit/fake-issuer';
import { serve } from '@mcp-lab/test-kit/serve';
import { makeKeys, nowS, signJwt, type Keys } from '@mcp-lab/test-kit/keys';

/**
 * A throwaway RS256 issuer for the bench: a key pair, the test kit's fake issuer publishing its JWKS (RFC 7517) and
 * RFC 8414 metadata on loopback, and a minting function. It stands in for the IdP so that token issuance is not measured.
 */
export interface BenchIssuer {
  /** Issuer identifier, the origin of the loopback server (no trailing slash). */
  readonly issuer: string;
  readonly jwksUrl: string;
  /** Signs an access token (RFC 9068 shape: iss, sub, aud, scope, client_id, iat, exp). */
  mint(claims: MintOptions): Promise<string>;
  /** 'hang': every request is held unanswered (an IdP outage that times out); 'up' answers again. */
  setOutage(mode: 'up' | 'hang'): void;
  /** Requests the issuer received (any path, answered or held). */
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
  /** `iat` in seconds (default now); `exp` = iat + ttlS. For a bench that runs an injected clock. */
  readonly issuedAtS?: number;
}

const KID = 'bench-rs256';

/** Starts the test kit's fake issuer on 127.0.0.1 with an OS-assigned port; tokens are signed here, not issued. */
export async function startBenchIssuer(): Promise<BenchIssuer> {
  const keys = await makeKeys(KID);
  let outage: 'up' | 'hang' = 'up';
  let requests = 0;
  let fake: FakeIssuer | undefined;
  // An outage holds each request unanswered until the client gives up (or the server closes).
  const served = await serve((request) => {
    requests++;
    return outage === 'hang' ? new Promise<Response>(() => undefined) : fake!.handle(request);
  });
  fake = createFakeIssuer({ issuer: served.origin, keys, scopes: ['notes:read', 'notes:write'] });
  return {
    issuer: fake.issuer,
    jwksUrl: `${fake.issuer}/jwks`,
    mint: (opts) => mint(keys, served.origin, opts),
    setOutage: (mode) => {
      outage = mode;
    },
    requests: () => requests,
    close: () => served.close(),
  };
}

function mint(keys: Keys, issuer: string, opts: MintOptions): Promise<string> {
  const iat = opts.issuedAtS ?? nowS();
  return signJwt(keys, {
    iss: issuer,
    sub: opts.subject ?? 'bench-user',
    aud: typeof opts.audience === 'string' ? opts.audience : [...opts.audience],
    scope: opts.scope,
    client_id: opts.clientId ?? 'bench-client',
    ...(opts.email === undefined ? {} : { email: opts.email }),
    iat,
    exp: iat + (opts.ttlS ?? 3600),
  });
}
