/**
 * The v2 SDK's `ServerEventBus` (the change events `subscriptions/listen` streams deliver) over our `EventBus`, so
 * that a stream held by one replica hears a change made on any other: the SDK's doc for it says "multi-process
 * deployments implement this interface over their own pub/sub".
 *
 * One bus channel per lab (`serverEventsChannel(db)`), subscribed once per replica whatever the number of open
 * streams; each message is fanned out here to the SDK's listeners (one per open listen stream, which filters by its
 * own subscription). `publish` serialises the event onto the bus and returns at once, as the interface wants; the
 * event comes back through the subscription — also to this replica, so local and remote streams hear it the same
 * way, exactly once. With the in-memory bus (no Redis) that is the single-process behaviour, synchronously.
 *
 * Delivery is the bus's: at most once, to streams open when the event is published (the spec's listen streams have
 * no replay either: a client that reconnects reads the resource again).
 */
import type { ServerEvent, ServerEventBus } from '@modelcontextprotocol/server';
import type { EventBus } from './types.ts';
import { isPlainObject } from '../plain-object.ts';

/** The events the SDK defines, and whether each carries a URI. */
const KINDS: Readonly<Record<ServerEvent['kind'], boolean>> = {
  tools_list_changed: false,
  prompts_list_changed: false,
  resources_list_changed: false,
  resource_updated: true,
};


/**
 * The event a bus message holds, or undefined when it holds none: the bus is trusted infrastructure, but nothing
 * malformed may reach a listen stream.
 */
export function parseServerEvent(raw: string): ServerEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isPlainObject(v) || typeof v.kind !== 'string' || !Object.hasOwn(KINDS, v.kind)) return undefined;
  if (v.params !== undefined && !isPlainObject(v.params)) return undefined;
  const params = v.params === undefined ? {} : { params: v.params };
  if (KINDS[v.kind as ServerEvent['kind']]) {
    return typeof v.uri === 'string' ? { kind: 'resource_updated', uri: v.uri, ...params } : undefined;
  }
  return { kind: v.kind as Exclude<ServerEvent['kind'], 'resource_updated'>, ...params };
}

/** The SDK's bus, and the end of this replica's subscription to the channel. */
export interface SharedServerEvents extends ServerEventBus {
  close(): Promise<void>;
}

/**
 * Subscribes to `channel` on `bus` (resolves once subscribed) and serves the SDK's listeners from it. `onError`
 * hears failed publishes (Redis unreachable), malformed messages and throwing listeners; none stops delivery.
 */
export async function openServerEvents(bus: EventBus, channel: string, onError: (err: Error) => void): Promise<SharedServerEvents> {
  const listeners = new Set<(event: ServerEvent) => void>();
  const stop = await bus.subscribe(channel, function fanOut(raw) {
    const event = parseServerEvent(raw);
    if (!event) {
      onError(new Error(`ignored a malformed message on ${channel}`));
      return;
    }
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
  });
  return {
    publish(event) {
      bus.publish(channel, JSON.stringify(event)).catch((err: unknown) => onError(err instanceof Error ? err : new Error(String(err))));
    },
    subscribe(listener) {
      // Its own entry, so that the same function subscribed twice is two listeners, each unsubscribed once.
      const entry = (event: ServerEvent) => listener(event);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    close: stop,
  };
}
