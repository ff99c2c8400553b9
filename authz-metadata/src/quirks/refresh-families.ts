/**
 * `single-use-refresh`: refresh token rotation with reuse detection (RFC 9700 §4.14.2). Every refresh token
 * works once; presenting a used one revokes its whole family (the tokens descended from one authorization), as
 * Auth0, Okta and Entra do. Tokens are kept as SHA-256 digests: the layer never holds a usable token longer than
 * the exchange that carries it.
 */
import { createHash } from 'node:crypto';

export type RefreshVerdict = 'ok' | 'reuse' | 'revoked';

/** What the lab's `/.quirks/refresh-families` reports (numbers only). */
export interface RefreshFamiliesReport {
  readonly families: number;
  readonly revoked: number;
  readonly reuseDetected: number;
  readonly refreshes: number;
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export class RefreshFamilies {
  readonly #familyOf = new Map<string, number>();
  readonly #used = new Set<string>();
  readonly #revoked = new Set<number>();
  #next = 0;
  #reuse = 0;
  #refreshes = 0;

  /** A refresh token was presented: ok (now used), a reuse (its family is revoked now), or of a revoked family. */
  use(token: string): RefreshVerdict {
    const d = digest(token);
    let family = this.#familyOf.get(d);
    if (family === undefined) {
      // Issued before the layer saw it (e.g. the lab restarted): the start of a family of its own.
      family = this.#next++;
      this.#familyOf.set(d, family);
    }
    if (this.#revoked.has(family)) return 'revoked';
    if (this.#used.has(d)) {
      this.#reuse++;
      this.#revoked.add(family);
      return 'reuse';
    }
    this.#used.add(d);
    this.#refreshes++;
    return 'ok';
  }

  /** The AS issued `token`, by a refresh of `previous` (same family) or by a new authorization (a new family). */
  issued(token: string, previous: string | undefined): void {
    const d = digest(token);
    if (previous !== undefined && digest(previous) === d) {
      // The AS did not rotate: the token stays usable.
      this.#used.delete(d);
      return;
    }
    const family = previous === undefined ? undefined : this.#familyOf.get(digest(previous));
    this.#familyOf.set(d, family ?? this.#next++);
  }

  report(): RefreshFamiliesReport {
    return { families: this.#next, revoked: this.#revoked.size, reuseDetected: this.#reuse, refreshes: this.#refreshes };
  }
}
