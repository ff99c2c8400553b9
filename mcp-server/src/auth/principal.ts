/** Who a request acts for, after its credentials were verified. Never holds the token itself. */
export interface Principal {
  readonly iss: string;
  readonly sub: string;
  readonly aud: readonly string[];
  readonly permissions: readonly string[];
  /** Seconds since the epoch (the token's `exp`). */
  readonly exp: number;
  readonly clientId?: string;
  readonly email?: string;
}

/** A collision-free key for the (iss, sub) pair that owns sessions and notes. */
export function principalKey(p: Pick<Principal, 'iss' | 'sub'>): string {
  return JSON.stringify([p.iss, p.sub]);
}
