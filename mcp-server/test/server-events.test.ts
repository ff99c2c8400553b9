/**
 * The v2 SDK's ServerEventBus over our EventBus (state/server-events.ts), on the in-process bus a single RS uses:
 * what a bus message must hold to become an event, fan-out to every listener, unsubscribing, a throwing listener
 * isolated, and the store decorator that announces note changes (after the write, never for a refused one). The
 * same code over Redis is in tests/scale-state.test.ts.
 */
import type { ServerEvent } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { announcingNotesChanges, notesResourceUri } from '../src/mcp/notes-resource.ts';
import { openNotesStore } from '../src/notes/store.ts';
import { createMemoryBus, createMemoryState } from '../src/state/memory.ts';
import { openServerEvents, parseServerEvent } from '../src/state/server-events.ts';
import { serverEventsChannel } from '../src/state/types.ts';

const LIMITS = { cookieSessionsMaxPerSubject: 2, cookieSessionsMax: 4, cookieSessionMaxLifetimeMs: 60_000 };

describe('parseServerEvent', () => {
  it.each([
    ['{"kind":"resource_updated","uri":"notes://user/x"}', { kind: 'resource_updated', uri: 'notes://user/x' }],
    ['{"kind":"tools_list_changed"}', { kind: 'tools_list_changed' }],
    ['{"kind":"resources_list_changed","params":{"a":1}}', { kind: 'resources_list_changed', params: { a: 1 } }],
    ['{"kind":"prompts_list_changed","uri":"ignored"}', { kind: 'prompts_list_changed' }],
  ])('%s is an event', (raw, event) => {
    expect(parseServerEvent(raw)).toEqual(event);
  });

  it.each([
    ['not JSON', '{"kind":'],
    ['not an object', '["resource_updated"]'],
    ['an unknown kind', '{"kind":"session_ended"}'],
    ['an inherited name as kind', '{"kind":"toString"}'],
    ['resource_updated without a URI', '{"kind":"resource_updated"}'],
    ['a URI that is not a string', '{"kind":"resource_updated","uri":7}'],
    ['params that are not an object', '{"kind":"tools_list_changed","params":"x"}'],
  ])('%s is not', (_what, raw) => {
    expect(parseServerEvent(raw)).toBeUndefined();
  });
});

describe('openServerEvents on the in-process bus', () => {
  it('one bus subscription serves every listener; each hears each event once; unsubscribed ones hear no more', async () => {
    const bus = createMemoryBus();
    const errors: Error[] = [];
    const events = await openServerEvents(bus, serverEventsChannel(), (err) => errors.push(err));
    const first: ServerEvent[] = [];
    const second: ServerEvent[] = [];
    const record = (into: ServerEvent[]) => (e: ServerEvent) => into.push(e);
    const stopFirst = events.subscribe(record(first));
    events.subscribe(record(second));
    // Two listeners, one subscriber on the bus channel: publish counts receivers, not listen streams.
    expect(await bus.publish(serverEventsChannel(), JSON.stringify({ kind: 'tools_list_changed' }))).toBe(1);
    events.publish({ kind: 'resource_updated', uri: 'notes://user/a' });
    stopFirst();
    stopFirst();
    events.publish({ kind: 'resource_updated', uri: 'notes://user/b' });
    expect(first).toEqual([{ kind: 'tools_list_changed' }, { kind: 'resource_updated', uri: 'notes://user/a' }]);
    expect(second.map((e) => (e.kind === 'resource_updated' ? e.uri : e.kind))).toEqual(['tools_list_changed', 'notes://user/a', 'notes://user/b']);
    expect(errors).toEqual([]);
    await events.close();
    expect(await bus.publish(serverEventsChannel(), JSON.stringify({ kind: 'tools_list_changed' }))).toBe(0);
  });

  it('a throwing listener and a malformed message are reported and stop nothing', async () => {
    const bus = createMemoryBus();
    const errors: string[] = [];
    const events = await openServerEvents(bus, 'ch', (err) => errors.push(err.message));
    const heard: string[] = [];
    events.subscribe(() => {
      throw new Error('listener broke');
    });
    events.subscribe((e) => heard.push(e.kind));
    await bus.publish('ch', 'garbage');
    events.publish({ kind: 'resources_list_changed' });
    expect(heard).toEqual(['resources_list_changed']);
    expect(errors).toEqual(['ignored a malformed message on ch', 'listener broke']);
  });

  it('the same function subscribed twice is two listeners, each unsubscribed on its own', async () => {
    const events = await openServerEvents(createMemoryBus(), 'ch', () => {});
    let calls = 0;
    const listener = () => void calls++;
    const stopOne = events.subscribe(listener);
    events.subscribe(listener);
    events.publish({ kind: 'tools_list_changed' });
    stopOne();
    events.publish({ kind: 'tools_list_changed' });
    expect(calls).toBe(3);
  });
});

describe('announcingNotesChanges', () => {
  it('announces resource_updated for the owner after each successful add and delete, nothing for refused ones', async () => {
    const state = await createMemoryState(Date.now, LIMITS);
    const store = openNotesStore(':memory:', { limits: { notesMaxPerUser: 1, noteMaxChars: 10, notesMaxBytesPerUser: 100, notesPageSizeMax: 10, notesPageMaxBytes: 100 } });
    const notes = announcingNotesChanges(store, state.serverEvents);
    const heard: string[] = [];
    state.serverEvents.subscribe((e) => heard.push(e.kind === 'resource_updated' ? e.uri : e.kind));
    const alice = { iss: 'https://as.example', sub: 'alice' };
    const note = notes.add(alice, 'hello');
    expect(() => notes.add(alice, 'second')).toThrow(/note limit reached/);
    expect(() => notes.add({ ...alice, sub: 'bob' }, 'far too long for this')).toThrow(/note too long/);
    expect(notes.delete(alice, 'no-such-note')).toBe(false);
    expect(notes.delete({ ...alice, sub: 'bob' }, note.id)).toBe(false);
    expect(notes.delete(alice, note.id)).toBe(true);
    expect(heard).toEqual([notesResourceUri(alice), notesResourceUri(alice)]);
    notes.close();
    await state.close();
  });
});
