/**
 * The single-process implementations of the shared state (no Redis configured): the in-memory cookie-session
 * store, a Map as session directory, and an in-process bus (which also carries the listen streams' change events).
 * A lab on one process behaves exactly as before.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createCookieSessionStore } from '../auth/cookie-sessions.ts';
import type { CookieSessionLimits } from '../auth/cookie-sessions.ts';
import { openServerEvents } from './server-events.ts';
import { serverEventsChannel } from './types.ts';
import type { EventBus, SessionDirectory, SessionKind, SessionOwnership, SharedState } from './types.ts';

/** An in-process bus: `publish` reaches the handlers subscribed in this process. */
export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(channel, message) {
      const n = emitter.listenerCount(channel);
      emitter.emit(channel, message);
      return n;
    },
    async subscribe(channel, handler) {
      emitter.on(channel, handler);
      return async () => {
        emitter.off(channel, handler);
      };
    },
  };
}

/** A directory of this process's own sessions (expiry is the registry's business here). */
export function createMemoryDirectory(replica: string): SessionDirectory {
  const entries = new Map<string, SessionOwnership>();
  const key = (kind: SessionKind, id: string) => `${kind}:${id}`;
  return {
    async record(kind, id, owner) {
      entries.set(key(kind, id), { owner, replica });
    },
    async lookup(kind, id) {
      return entries.get(key(kind, id));
    },
    async forget(kind, id) {
      entries.delete(key(kind, id));
    },
  };
}

/** `onError` hears what goes wrong delivering change events (a throwing listener). */
export async function createMemoryState(now: () => number, limits: CookieSessionLimits, onError: (err: Error) => void = () => {}): Promise<SharedState> {
  const replica = randomUUID();
  const bus = createMemoryBus();
  const serverEvents = await openServerEvents(bus, serverEventsChannel(), onError);
  return {
    kind: 'memory',
    replica,
    cookieSessions: createCookieSessionStore(now, limits),
    sessions: createMemoryDirectory(replica),
    bus,
    serverEvents,
    close: () => serverEvents.close(),
  };
}
