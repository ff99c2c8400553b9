import { createHash, timingSafeEqual } from 'node:crypto';
import type { Account, FindAccount } from 'oidc-provider';

/** A demo user of the lab. `sub` is a fixed opaque identifier, stable across restarts. */
export interface DemoUser {
  readonly sub: string;
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly password: string;
}

/** The lab's demo users (documented in the README; never use such passwords elsewhere). */
export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  { sub: 'a1b2c3d4-0000-4000-8000-0000000a11ce', username: 'alice', name: 'Alice', email: 'alice@example.com', password: 'alice-password' },
  { sub: 'b0b0b0b0-0000-4000-8000-000000000b0b', username: 'bob', name: 'Bob', email: 'bob@example.com', password: 'bob-password' },
]);

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Checks a username/password pair; returns the user or undefined. Passwords are compared through fixed-length
 * digests with `timingSafeEqual`, and an unknown username costs the same comparison.
 */
export function authenticate(username: string, password: string): DemoUser | undefined {
  const user = DEMO_USERS.find((u) => u.username === username);
  const expected = digest(user?.password ?? 'no-such-user\u0000');
  const ok = timingSafeEqual(expected, digest(password));
  return ok && user !== undefined ? user : undefined;
}

export function userBySub(sub: string): DemoUser | undefined {
  return DEMO_USERS.find((u) => u.sub === sub);
}

function toAccount(user: DemoUser): Account {
  return {
    accountId: user.sub,
    claims() {
      return {
        sub: user.sub,
        email: user.email,
        email_verified: true,
        name: user.name,
        preferred_username: user.username,
      };
    },
  };
}

/** oidc-provider's `findAccount` over {@link DEMO_USERS} (OIDC Core §5.1 standard claims). */
export const findAccount: FindAccount = (_ctx, sub) => {
  const user = userBySub(sub);
  return user === undefined ? undefined : toAccount(user);
};
