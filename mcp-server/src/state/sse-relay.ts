/**
 * The legacy HTTP+SSE route across replicas: a `POST /messages?sessionId=…` that lands on a replica other than
 * the one holding the stream is checked there in full (token, session owner, permissions), then relayed on the
 * bus to the holder, which answers on the stream. The relayed principal is the verified one; the token never
 * travels. The bus is trusted infrastructure (Redis on a private network, see README "Scale-out").
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../auth/principal.ts';
import { sessionNotFound } from '../mcp/sessions.ts';
import type { SharedState, SessionOwnership } from './types.ts';
import { replicaChannel } from './types.ts';

/** What travels on the holder's channel. */
export interface RelayedMessage {
  readonly kind: 'sse-message';
  readonly sessionId: string;
  readonly principal: Principal;
  readonly message: JSONRPCMessage;
}

/**
 * Sends `message` to the replica holding the stream.
 * @throws HttpError 404 when that replica no longer listens (it ended or died: its streams are gone).
 */
export async function relayToHolder(
  state: SharedState,
  holder: SessionOwnership,
  sessionId: string,
  principal: Principal,
  message: JSONRPCMessage,
): Promise<void> {
  const relayed: RelayedMessage = { kind: 'sse-message', sessionId, principal, message };
  const receivers = await state.bus.publish(replicaChannel(holder.replica), JSON.stringify(relayed));
  if (receivers === 0) {
    await state.sessions.forget('sse', sessionId);
    throw sessionNotFound();
  }
}

/** Subscribes this replica to messages relayed to it; `handle` gets each well-formed one. */
export function listenForRelayed(state: SharedState, handle: (relayed: RelayedMessage) => Promise<void>, onError: (err: unknown) => void) {
  return state.bus.subscribe(replicaChannel(state.replica), function onRelayed(raw) {
    let relayed: RelayedMessage;
    try {
      relayed = JSON.parse(raw) as RelayedMessage;
    } catch (err) {
      onError(err);
      return;
    }
    if (relayed?.kind !== 'sse-message' || typeof relayed.sessionId !== 'string') return;
    handle(relayed).catch(onError);
  });
}
