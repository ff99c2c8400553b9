/**
 * The shared state of several replicas in Redis (MCP_REDIS_URL), through ioredis: cookie sessions
 * (redis-cookie-sessions.ts), the 2025-era session directory, and a pub/sub bus (with the listen streams' change
 * events on it, server-events.ts). One connection sends commands;
 * a second one, in subscriber mode as Redis requires, receives the bus's messages.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { CookieSessionLimits } from '../auth/cookie-sessions.ts';
import { createRedisCookieSessionStore } from './redis-cookie-sessions.ts';
import { openServerEvents } from './server-events.ts';
import { cookieEndChannel, serverEventsChannel } from './types.ts';
import type { EventBus, SessionDirectory, SessionOwnership, SharedState } from './types.ts';

const directoryKey = (kind: string, id: string) => `mcp-lab:session:${kind}:${id}`;

/** A bus on Redis pub/sub: `publish` answers how many subscribed connections (replicas) received the message. */
export function createRedisBus(commands: Redis, subscriber: Redis): EventBus {
  const handlers = new Map<string, Set<(message: string) => void>>();
  subscriber.on('message', function dispatch(channel: string, message: string) {
    for (const handler of handlers.get(channel) ?? []) handler(message);
  });
  return {
    publish(channel, message) {
      return commands.publish(channel, message);
    },
    async subscribe(channel, handler) {
      let set = handlers.get(channel);
      if (!set) {
        handlers.set(channel, (set = new Set()));
        await subscriber.subscribe(channel);
      }
      set.add(handler);
      return async () => {
        const current = handlers.get(channel);
        if (!current?.delete(handler) || current.size > 0) return;
        handlers.delete(channel);
        await subscriber.unsubscribe(channel);
      };
    },
  };
}

export function createRedisDirectory(redis: Redis, replica: string): SessionDirectory {
  return {
    async record(kind, id, owner, ttlMs) {
      await redis.set(directoryKey(kind, id), JSON.stringify({ owner, replica } satisfies SessionOwnership), 'PX', Math.max(1, ttlMs));
    },
    async lookup(kind, id) {
      const raw = await redis.get(directoryKey(kind, id));
      if (raw === null) return undefined;
      const v = JSON.parse(raw) as Partial<SessionOwnership>;
      return typeof v.owner === 'string' && typeof v.replica === 'string' ? { owner: v.owner, replica: v.replica } : undefined;
    },
    async forget(kind, id) {
      await redis.del(directoryKey(kind, id));
    },
  };
}

export interface RedisStateOptions {
  readonly url: string;
  readonly now: () => number;
  readonly limits: CookieSessionLimits;
  /** Called with connection errors (ioredis reconnects by itself) and undeliverable change events; never with credentials. */
  readonly onError?: (err: Error) => void;
}

/** Connects (both connections ready, the bus subscribed) or throws. */
export async function createRedisState(opts: RedisStateOptions): Promise<SharedState> {
  // A command waits through at most two reconnects, so that a lost Redis fails requests instead of hanging them.
  const commands = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: 2, connectionName: 'mcp-lab-rs' });
  const subscriber = commands.duplicate({ connectionName: 'mcp-lab-rs-bus' });
  const onError = opts.onError ?? (() => {});
  commands.on('error', onError);
  subscriber.on('error', onError);
  try {
    await Promise.all([commands.connect(), subscriber.connect()]);
  } catch (err) {
    commands.disconnect();
    subscriber.disconnect();
    throw new Error(`MCP_REDIS_URL: cannot connect to Redis (${(err as Error).message})`, { cause: err });
  }
  const replica = randomUUID();
  const bus = createRedisBus(commands, subscriber);
  const db = commands.options.db ?? 0;
  const cookieSessions = await createRedisCookieSessionStore(commands, bus, opts.now, opts.limits, cookieEndChannel(db));
  const serverEvents = await openServerEvents(bus, serverEventsChannel(db), onError);
  return {
    kind: 'redis',
    replica,
    cookieSessions,
    sessions: createRedisDirectory(commands, replica),
    bus,
    serverEvents,
    async close() {
      await cookieSessions.unsubscribe();
      await serverEvents.close();
      await Promise.allSettled([subscriber.quit(), commands.quit()]);
    },
  };
}
