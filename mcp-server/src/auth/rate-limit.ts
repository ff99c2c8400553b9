/**
 * Per-subject request rate limit: a token bucket per (iss, sub), so that one user's request storm is refused
 * cheaply (429) before it costs the server the work that would slow everyone else down. A bucket holds
 * `burst` requests and refills at `perSecond`; a fixed window (as @fastify/rate-limit counts) would let a
 * subject spend a whole window's allowance in one burst, which is exactly what starves the other users.
 */
import { principalKey } from './principal.ts';
import type { Principal } from './principal.ts';

/** A request over its subject's rate (429, with Retry-After in seconds). */
export class RateLimited extends Error {
  override readonly name = 'RateLimited';
  readonly status = 429;
  readonly retryAfterS: number;
  constructor(perSecond: number, retryAfterS: number) {
    super(`too many requests: at most ${perSecond} per second per user; retry after ${retryAfterS} s`);
    this.retryAfterS = retryAfterS;
  }
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Buckets kept before full (idle) ones are dropped; a full bucket is the same as none. */
const MAX_BUCKETS = 100_000;

export interface SubjectRateLimiter {
  /** @throws RateLimited when the subject has no request left right now. */
  take(principal: Pick<Principal, 'iss' | 'sub'>): void;
}

export function createSubjectRateLimiter(perSecond: number, burst: number, now: () => number): SubjectRateLimiter {
  const buckets = new Map<string, Bucket>();
  const refill = (b: Bucket, t: number): void => {
    b.tokens = Math.min(burst, b.tokens + ((t - b.atMs) / 1000) * perSecond);
    b.atMs = t;
  };
  return {
    take(principal) {
      const t = now();
      const key = principalKey(principal);
      let b = buckets.get(key);
      if (!b) {
        if (buckets.size >= MAX_BUCKETS) {
          for (const [k, other] of buckets) {
            refill(other, t);
            if (other.tokens >= burst) buckets.delete(k);
          }
        }
        b = { tokens: burst, atMs: t };
        buckets.set(key, b);
      } else refill(b, t);
      if (b.tokens < 1) throw new RateLimited(perSecond, Math.max(1, Math.ceil((1 - b.tokens) / perSecond)));
      b.tokens -= 1;
    },
  };
}
