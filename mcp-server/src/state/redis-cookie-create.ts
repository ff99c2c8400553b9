/**
 * Creating a cookie session in Redis as one atomic step (a Lua script, registered with ioredis `defineCommand`:
 * one round trip, EVALSHA with a fallback to EVAL). Nothing runs between its reads and its writes, so replicas
 * creating sessions for one subject at the same instant cannot overshoot the caps:
 * 1. the subject's own oldest sessions go, down to one below `cookieSessionsMaxPerSubject` (reported as replaced);
 * 2. when the store holds `cookieSessionsMax`, expired sessions are swept (reported as expired); if it is still
 *    full, nothing is written and the answer is `full`;
 * 3. else the session is written with a Redis TTL at its expiry, indexed by expiry and by the subject's creation
 *    order (one sequence for all replicas).
 * The script names the keys of evicted and swept sessions itself (from their ids), as one Redis runs the lab's
 * shared state (not a Redis Cluster, where every key must be passed in KEYS).
 */
import type { Redis, Result } from 'ioredis';

const COMMAND = 'mcpLabCreateCookieSession';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    mcpLabCreateCookieSession(...args: Array<string | number>): Result<[string, string[], string[]], Context>;
  }
}

/*
 * KEYS: 1 every live id scored by expiry, 2 the subject's ids scored by creation order, 3 the sequence,
 *       4 the new session's key.
 * ARGV: 1 id, 2 the session's JSON, 3 now (ms), 4 expiry (ms), 5 TTL (ms), 6 cap per subject, 7 cap in all,
 *       8 TTL of the subject's index (ms), 9 prefix of session keys, 10 prefix of subjects' index keys.
 * Answers {'ok' | 'full', replaced ids, expired ids}.
 */
const CREATE_LUA = `
local all, owned, sequence, session = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, now, expiresAt = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local perSubject, maxAll = tonumber(ARGV[6]), tonumber(ARGV[7])
local sessionPrefix, ownerPrefix = ARGV[9], ARGV[10]
local replaced, expired = {}, {}

local own = redis.call('ZCARD', owned)
if own >= perSubject then
  for _, old in ipairs(redis.call('ZRANGE', owned, 0, own - perSubject)) do
    redis.call('DEL', sessionPrefix .. old)
    redis.call('ZREM', owned, old)
    if redis.call('ZREM', all, old) == 1 then table.insert(replaced, old) end
  end
end

if redis.call('ZCARD', all) >= maxAll then
  for _, old in ipairs(redis.call('ZRANGEBYSCORE', all, '-inf', now)) do
    local raw = redis.call('GET', sessionPrefix .. old)
    if raw then redis.call('ZREM', ownerPrefix .. cjson.decode(raw).owner, old) end
    redis.call('DEL', sessionPrefix .. old)
    if redis.call('ZREM', all, old) == 1 then table.insert(expired, old) end
  end
  if redis.call('ZCARD', all) >= maxAll then return {'full', replaced, expired} end
end

local order = redis.call('INCR', sequence)
redis.call('SET', session, ARGV[2], 'PX', ARGV[5])
redis.call('ZADD', all, expiresAt, id)
redis.call('ZADD', owned, order, id)
redis.call('PEXPIRE', owned, ARGV[8])
return {'ok', replaced, expired}
`;

/** Where the store keeps what the script touches. */
export interface CookieKeys {
  readonly all: string;
  readonly sequence: string;
  readonly sessionPrefix: string;
  readonly ownerPrefix: string;
}

/** What one creation asks for. */
export interface CreateRequest {
  readonly id: string;
  readonly owner: string;
  readonly json: string;
  readonly nowMs: number;
  readonly expiresAtMs: number;
  readonly maxPerSubject: number;
  readonly maxSessions: number;
  readonly ownerTtlMs: number;
}

/** What one creation did: written or refused (`full`), and the sessions it ended to make room. */
export interface CreateOutcome {
  readonly written: boolean;
  readonly replaced: readonly string[];
  readonly expired: readonly string[];
}

/** Registers the script on `redis` and returns the atomic creation (see the module comment). */
export function defineCreateCookieSession(redis: Redis, keys: CookieKeys): (request: CreateRequest) => Promise<CreateOutcome> {
  redis.defineCommand(COMMAND, { numberOfKeys: 4, lua: CREATE_LUA });
  return async function createCookieSession(r) {
    const [status, replaced, expired] = await redis.mcpLabCreateCookieSession(
      keys.all,
      keys.ownerPrefix + r.owner,
      keys.sequence,
      keys.sessionPrefix + r.id,
      r.id,
      r.json,
      r.nowMs,
      r.expiresAtMs,
      Math.max(1, r.expiresAtMs - r.nowMs),
      r.maxPerSubject,
      r.maxSessions,
      r.ownerTtlMs,
      keys.sessionPrefix,
      keys.ownerPrefix,
    );
    return { written: status === 'ok', replaced, expired };
  };
}
