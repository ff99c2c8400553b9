/**
 * The RS tests' JWKS endpoint: the kit's fake issuer on a loopback port, whose `/jwks` the test steers. It answers
 * the key set (`up`), 503 (`down`), a document that is not a key set (`garbage`), or holds the answer (`hold`)
 * until the test releases it; the test sees when the fetching side gives up on a held answer (its connection
 * closes). It counts its fetches, so single-flight refreshes and negative caching are counted, never timed.
 */
import type { JWK } from 'jose';
import { serveFakeIssuer } from '@mcp-lab/test-kit/fake-issuer';
import { json } from '@mcp-lab/test-kit/serve';

export type JwksMode = 'up' | 'down' | 'garbage' | 'hold';

/** A `/jwks` request whose answer is held. */
export interface HeldFetch {
  /** Answers it: the key set as served now, or 503. */
  release(answer: 'keys' | 'down'): void;
  /** Resolves once the fetching side closed the connection without an answer (it timed out or was aborted). */
  readonly abandoned: Promise<void>;
  /** True while it is neither answered nor abandoned. */
  pending(): boolean;
}

export interface JwksServer {
  /** The issuer's origin; the key set is at `${url}/jwks`. */
  readonly url: string;
  /** How `/jwks` answers from now on (default `up`). */
  mode: JwksMode;
  /** How often `/jwks` was fetched, whatever it answered. */
  readonly requests: () => number;
  /** The `n`-th held fetch (from 1), once it has arrived. */
  held(n: number): Promise<HeldFetch>;
  close(): Promise<void>;
}

/** A held answer: resolved by `release`, abandoned when the request's connection closes first. */
function holdAnswer(request: Request, keySet: () => Response, arrived: (held: HeldFetch) => void): Promise<Response> {
  return new Promise<Response>((resolve) => {
    let settled = false;
    const abandoned = new Promise<void>((done) => {
      const onAbort = () => {
        settled = true;
        done();
      };
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener('abort', onAbort, { once: true });
    });
    arrived({
      release(answer) {
        settled = true;
        resolve(answer === 'keys' ? keySet() : json({ error: 'temporarily_unavailable' }, 503));
      },
      abandoned,
      pending: () => !settled,
    });
  });
}

/** Serves `{keys: jwks()}` at `/jwks` and metadata naming `issuer` (not its own origin), steerable as above. */
export async function serveJwks(jwks: () => JWK[], issuer: string): Promise<JwksServer> {
  const held: HeldFetch[] = [];
  let waiters: Array<() => void> = [];
  const server = { mode: 'up' as JwksMode };
  const fake = await serveFakeIssuer({
    jwks,
    metadata: (doc) => void (doc.issuer = issuer),
    jwksEndpoint(request, keySet) {
      switch (server.mode) {
        case 'up':
          return keySet();
        case 'down':
          return json({ error: 'temporarily_unavailable' }, 503);
        case 'garbage':
          return json({ not: 'a key set' });
        case 'hold':
          return holdAnswer(request, keySet, (h) => {
            held.push(h);
            const woken = waiters;
            waiters = [];
            for (const wake of woken) wake();
          });
      }
    },
  });
  return Object.assign(server, {
    url: fake.url,
    requests: fake.jwksRequests,
    async held(n: number): Promise<HeldFetch> {
      while (held.length < n) await new Promise<void>((wake) => waiters.push(wake));
      return held[n - 1]!;
    },
    async close(): Promise<void> {
      for (const h of held) if (h.pending()) h.release('down');
      await fake.close();
    },
  });
}
