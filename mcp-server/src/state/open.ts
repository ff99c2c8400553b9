/**
 * Chooses the shared state from the config: Redis when MCP_REDIS_URL is set (several replicas), otherwise the
 * in-memory implementations of the same interfaces (one process, `npm start`).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { RsConfig } from '../config.ts';
import { createMemoryState } from './memory.ts';
import { createRedisState } from './redis.ts';
import type { SharedState } from './types.ts';

export async function openSharedState(config: Pick<RsConfig, 'redisUrl' | 'limits'>, now: () => number, log: FastifyBaseLogger): Promise<SharedState> {
  if (config.redisUrl === undefined) {
    return createMemoryState(now, config.limits, (err) => log.warn({ err: { message: err.message } }, 'a change event could not be delivered'));
  }
  const state = await createRedisState({
    url: config.redisUrl,
    now,
    limits: config.limits,
    onError: (err) => log.warn({ err: { message: err.message } }, 'shared state error (Redis reconnects by itself)'),
  });
  log.info({ replica: state.replica }, 'shared state in Redis');
  return state;
}
