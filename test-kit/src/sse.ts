/**
 * The kit's one Server-Sent Events reader (WHATWG HTML §9.2 event stream format), on eventsource-parser — the
 * parser the `eventsource` package is built on — rather than a regular expression over a buffer: an event may
 * arrive split across chunks, carry several `data:` lines or use CRLF, and a test must not depend on how the
 * server happened to flush.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { EventSourceParserStream } from 'eventsource-parser/stream';

/** One event; `event` is `message` when the server named none. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

function toEvent(m: EventSourceMessage): SseEvent {
  return { event: m.event ?? 'message', data: m.data };
}

/** A push parser for a stream read chunk by chunk (e.g. from node:http): feed it text, it calls `onEvent`. */
export function sseFeed(onEvent: (event: SseEvent) => void): (chunk: string) => void {
  const parser = createParser({ onEvent: (m) => onEvent(toEvent(m)) });
  return (chunk) => parser.feed(chunk);
}

/** The events of a complete SSE body (a response read to its end, e.g. from `app.inject`). */
export function parseSse(body: string): SseEvent[] {
  const events: SseEvent[] = [];
  sseFeed((e) => events.push(e))(body);
  // A last event without its blank line is not dispatched (as in a browser); a complete body always ends with one.
  return events;
}

/**
 * The JSON-RPC messages of a Streamable HTTP response body, whichever way the server answered: a JSON object or
 * batch (`application/json`) or an SSE stream of `message` events (`text/event-stream`).
 */
export function rpcMessages(body: string): Array<Record<string, any>> {
  const trimmed = body.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const parsed = JSON.parse(trimmed) as Record<string, any> | Array<Record<string, any>>;
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  return parseSse(body).map((e) => JSON.parse(e.data) as Record<string, any>);
}

export interface SseStream {
  /** Where the legacy HTTP+SSE transport (MCP 2024-11-05) says to POST messages: its first event, `endpoint`. */
  readonly endpoint: URL;
  /** The next event of the stream; rejects when the stream ends first. */
  next(): Promise<SseEvent>;
  /** Hangs up. */
  close(): void;
}

/**
 * Opens a legacy HTTP+SSE stream (`GET <url>` with `accept: text/event-stream`) and reads its `endpoint` event.
 * Throws when the server answers anything but 200 or opens with another event.
 */
export async function openSse(url: string | URL, headers: Readonly<Record<string, string>> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal: controller.signal });
  if (res.status !== 200 || res.body === null) {
    controller.abort();
    throw new Error(`GET ${String(url)} answered HTTP ${res.status}, not an event stream`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  const next = async (): Promise<SseEvent> => {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream from ${String(url)} ended`);
    return toEvent(value);
  };
  const first = await next();
  if (first.event !== 'endpoint') {
    controller.abort();
    throw new Error(`the stream from ${String(url)} opened with a ${first.event} event, not endpoint: ${first.data}`);
  }
  return { endpoint: new URL(first.data, url), next, close: () => controller.abort() };
}

/** An event stream some request answered with, e.g. the POST of a 2026-07-28 `subscriptions/listen`. */
export interface EventStreamResponse {
  readonly status: number;
  /** The next event of the stream; rejects when the stream ends first. */
  next(): Promise<SseEvent>;
  /** Hangs up. */
  close(): void;
}

/**
 * Sends `init` to `url` and reads the answer as an event stream (the status is kept, so a refusal can be asserted;
 * a refused answer's body is then read as no events). `accept: text/event-stream` is added unless set.
 */
export async function openEventStream(url: string | URL, init: { readonly method?: string; readonly headers?: Readonly<Record<string, string>>; readonly body?: string }): Promise<EventStreamResponse> {
  const controller = new AbortController();
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { accept: 'text/event-stream', ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
    signal: controller.signal,
  });
  const reader = (res.body ?? new Response('').body!).pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  return {
    status: res.status,
    async next() {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream from ${String(url)} ended`);
      return toEvent(value);
    },
    close: () => controller.abort(),
  };
}
