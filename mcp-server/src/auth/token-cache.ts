/**
 * A bounded cache of verified access tokens, so that a token presented again skips the signature check
 * (RFC 9068 §4 validation is pure given the token, the keys and the clock). It never weakens a check:
 * - only successful verifications are stored (failures, time-dependent or not, are always re-verified);
 * - an entry is served only while the token's `exp`/`nbf` would still pass with the verifier's clock skew
 *   (the same comparison jose makes, RFC 7519 §4.1.4–4.1.5);
 * - entries made with a key that a JWKS refetch removed or replaced are dropped, and a verification that
 *   raced with such a refetch is not stored;
 * - the cache holds at most `maxEntries` tokens, evicting the oldest insertion first.
 */
import type { Principal } from './principal.ts';

interface Entry {
  readonly principal: Principal;
  /** The `kid` of the signing key (`''` when the token named none). */
  readonly kid: string;
  /** The token's `nbf` in seconds, if it had one. */
  readonly nbf: number | undefined;
}

export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #skewS: number;
  #generation = 0;

  /** @param maxEntries 0 disables the cache. @param skewS the verifier's clock tolerance in seconds. */
  constructor(maxEntries: number, skewS: number) {
    this.#maxEntries = maxEntries;
    this.#skewS = skewS;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Changes whenever keys are dropped; a verification started under an older generation is not stored. */
  get generation(): number {
    return this.#generation;
  }

  /** The principal of a token verified before, if its time claims still pass at `nowS` (seconds, floored). */
  get(token: string, nowS: number): Principal | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.principal.exp <= nowS - this.#skewS || (entry.nbf !== undefined && entry.nbf > nowS + this.#skewS)) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.principal;
  }

  /** Stores a successful verification made under `generation` (see `generation`). */
  set(token: string, entry: Entry, generation: number): void {
    if (this.#maxEntries === 0 || generation !== this.#generation) return;
    this.#entries.delete(token);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, entry);
  }

  /** Forgets every token signed with one of `kids`, and every token that named no kid (its key is unknown). */
  dropKeys(kids: ReadonlySet<string>): void {
    this.#generation++;
    for (const [token, entry] of this.#entries) {
      if (entry.kid === '' || kids.has(entry.kid)) this.#entries.delete(token);
    }
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }
}
