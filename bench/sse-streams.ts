import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { sseFeed } from '@mcp-lab/test-kit/sse';

/**
 * Many concurrent legacy HTTP+SSE streams (MCP 2024-11-05 transport): each is a raw `GET /sse` on its own socket,
 * read until the server's `endpoint` event, then held open.
 */
export interface OpenStreams {
  readonly requested: number;
  readonly opened: number;
  readonly failures: number;
  /** Up to five distinct failure reasons. */
  readonly failureSamples: readonly string[];
  readonly openMs: number;
  /** Streams the server (or the network) closed after they were open. */
  closedEarly(): number;
  closeAll(): Promise<void>;
}

interface Held {
  readonly req: ClientRequest;
  readonly res: IncomingMessage;
  closedByUs: boolean;
}

const OPEN_TIMEOUT_MS = 30_000;

/** Opens `count` streams with at most `concurrency` handshakes in flight. */
export async function openSseStreams(
  url: string,
  headers: Readonly<Record<string, string>>,
  count: number,
  concurrency: number,
): Promise<OpenStreams> {
  const held: Held[] = [];
  const failureSamples = new Set<string>();
  let failures = 0;
  let closedEarly = 0;
  let next = 0;
  const started = performance.now();
  async function worker(): Promise<void> {
    while (next < count) {
      next++;
      try {
        const h = await openOne(url, headers);
        h.res.on('close', () => {
          if (!h.closedByUs) closedEarly++;
        });
        held.push(h);
      } catch (err) {
        failures++;
        if (failureSamples.size < 5) failureSamples.add((err as Error).message);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
  const openMs = performance.now() - started;
  return {
    requested: count,
    opened: held.length,
    failures,
    failureSamples: [...failureSamples],
    openMs,
    closedEarly: () => closedEarly,
    async closeAll() {
      await Promise.all(
        held.map(
          (h) =>
            new Promise<void>((resolve) => {
              h.closedByUs = true;
              if (h.res.destroyed) {
                resolve();
                return;
              }
              h.res.once('close', () => resolve());
              h.req.destroy();
            }),
        ),
      );
    },
  };
}

function openOne(url: string, headers: Readonly<Record<string, string>>): Promise<Held> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, headers: { ...headers, accept: 'text/event-stream' } });
    const timer = setTimeout(() => req.destroy(new Error(`no endpoint event within ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.once('response', (res) => {
      res.setEncoding('utf8');
      let buf = '';
      if (res.statusCode !== 200) {
        res.on('data', (chunk: string) => (buf += chunk));
        res.once('end', () => {
          clearTimeout(timer);
          reject(new Error(`HTTP ${res.statusCode}: ${buf.slice(0, 200)}`));
        });
        return;
      }
      let opened = false;
      // The first event must be `endpoint` (HTTP+SSE transport); the test kit's SSE reader finds its end.
      const feed = sseFeed((e) => {
        if (opened || e.event !== 'endpoint') return;
        opened = true;
        clearTimeout(timer);
        res.off('data', onData);
        // Keep reading (and discarding) so that keep-alive comments do not fill the socket buffer.
        res.on('data', () => undefined);
        resolve({ req, res, closedByUs: false });
      });
      const onData = (chunk: string): void => {
        buf += chunk;
        feed(chunk);
      };
      res.on('data', onData);
      res.once('end', () => {
        clearTimeout(timer);
        reject(new Error(`stream ended before the endpoint event: ${buf.slice(0, 200)}`));
      });
    });
    req.end();
  });
}
