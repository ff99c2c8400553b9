/**
 * What a 2026-07-28 `subscriptions/listen` may subscribe to, decided before the SDK sees the request.
 *
 * The spec (basic/patterns/subscriptions, "Acknowledgment") has the server acknowledge "the subset the server agreed
 * to honor", omitting what it does not support, and the client check the acknowledged filter against its request;
 * it defines no error for a resource URI the server will not watch. So a URI in `resourceSubscriptions` that is not
 * the caller's own notes resource — someone else's, or one that does not exist — is stripped, and the SDK's ack
 * then names only what the stream will carry. Both cases are stripped alike, so the answer tells nobody whether
 * another user's URI exists. (A notes-scheme URI needs the read permission first, whoever's it is:
 * tool-permissions.ts, before this.)
 */
import type { Principal } from '../auth/principal.ts';
import { notesResourceUri } from './notes-resource.ts';
import { isPlainObject } from '../plain-object.ts';


/** The `notifications.resourceSubscriptions` of a listen request, when it is a list of strings (else undefined). */
export function listenResourceSubscriptions(body: unknown): readonly string[] | undefined {
  if (!isPlainObject(body) || body.method !== 'subscriptions/listen' || !isPlainObject(body.params)) return undefined;
  const filter = body.params.notifications;
  if (!isPlainObject(filter) || !Array.isArray(filter.resourceSubscriptions)) return undefined;
  const uris: unknown[] = filter.resourceSubscriptions;
  return uris.every((u) => typeof u === 'string') ? (uris as string[]) : undefined;
}

/**
 * `body` with `resourceSubscriptions` narrowed to the caller's own notes URI (a copy; the request is not changed).
 * Anything else — another method, a filter without resource subscriptions, a malformed one (which the SDK refuses
 * with -32602 as it stands) — is returned as it is.
 */
export function narrowListenRequest(body: unknown, caller: Principal): unknown {
  const requested = listenResourceSubscriptions(body);
  if (requested === undefined) return body;
  const own = notesResourceUri(caller);
  const honored = requested.includes(own) ? [own] : [];
  const request = body as { params: { notifications: Record<string, unknown> } & Record<string, unknown> } & Record<string, unknown>;
  return { ...request, params: { ...request.params, notifications: { ...request.params.notifications, resourceSubscriptions: honored } } };
}
