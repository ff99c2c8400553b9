import { serveFakeIssuer } from '@mcp-lab/test-kit/fake-issuer';
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
  close(): Promise<void>;
}

export interface MintOptions {
  readonly audience: string | readonly string[];
  readonly scope: string;
  readonly subject?: string;
  readonly clientId?: string;
  readonly email?: string;
  readonly ttlS?: number;
}

const KID = 'bench-rs256';

/** Starts the test kit's fake issuer on 127.0.0.1 with an OS-assigned port; tokens are signed here, not issued. */
export async function startBenchIssuer(): Promise<BenchIssuer> {
  const keys = await makeKeys(KID);
  const fake = await serveFakeIssuer({ keys, scopes: ['notes:read', 'notes:write'] });
  return {
    issuer: fake.issuer,
    jwksUrl: `${fake.issuer}/jwks`,
    mint: (opts) => mint(keys, fake.issuer, opts),
    close: fake.close,
  };
}

function mint(keys: Keys, issuer: string, opts: MintOptions): Promise<string> {
  const iat = nowS();
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
