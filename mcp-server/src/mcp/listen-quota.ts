/**
 * How many `subscriptions/listen` streams each subject holds on this replica, so that one user cannot take every
 * stream the replica serves (`MCP_LISTEN_MAX_STREAMS`, enforced by the SDK) from the others. Like the session caps,
 * the count is per replica: a stream is a socket held by one process.
 */
import { principalKey } from '../auth/principal.ts';
import type { Principal } from '../auth/principal.ts';
import { JsonRpcHttpError } from './jsonrpc-error.ts';

export interface ListenQuota {
  /**
   * Takes a place for a listen stream `principal` opens; call the returned function once it has ended (calling it
   * again is harmless).
   * @throws JsonRpcHttpError 429 too_many_streams when the subject holds its maximum already.
   */
  acquire(principal: Pick<Principal, 'iss' | 'sub'>): () => void;
  /** Streams held by the subject (for tests and diagnostics). */
  heldBy(principal: Pick<Principal, 'iss' | 'sub'>): number;
}

export function createListenQuota(maxPerSubject: number): ListenQuota {
  const held = new Map<string, number>();
  return {
    acquire(principal) {
      const owner = principalKey(principal);
      const n = held.get(owner) ?? 0;
      if (n >= maxPerSubject) {
        throw new JsonRpcHttpError(
          'too_many_streams',
          `too many subscriptions/listen streams: at most ${maxPerSubject} per user; close one first`,
        );
      }
      held.set(owner, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (held.get(owner) ?? 1) - 1;
        if (left > 0) held.set(owner, left);
        else held.delete(owner);
      };
    },
    heldBy(principal) {
      return held.get(principalKey(principal)) ?? 0;
    },
  };
}
