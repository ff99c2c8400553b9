/**
 * Reads the V8 heap of a server started with `--inspect=127.0.0.1:0`, from outside, over the Chrome DevTools
 * Protocol (HeapProfiler.collectGarbage, Runtime.getHeapUsage). The server needs no debug endpoint of its own.
 */

export interface HeapUsage {
  /** Bytes of live JS heap objects. */
  readonly usedBytes: number;
  readonly totalBytes: number;
}

export interface InspectorClient {
  /** Forces a full GC, then reads heap usage. */
  heapAfterGc(): Promise<HeapUsage>;
  close(): void;
}

/** The `ws://…` URL Node printed ("Debugger listening on ws://…") in the captured output of a process. */
export function inspectorUrlFrom(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

const CALL_TIMEOUT_MS = 30_000;

/**
 * Connects to the inspector whose URL a process printed in `output`.
 * @returns the client, or why there is none (no URL printed, or the connection failed) for the report's notes.
 */
export async function inspectorFromOutput(output: string): Promise<InspectorClient | { readonly failure: string }> {
  const wsUrl = inspectorUrlFrom(output);
  try {
    if (wsUrl === undefined) throw new Error('the RS printed no inspector URL');
    return await connectInspector(wsUrl);
  } catch (err) {
    return { failure: (err as Error).message };
  }
}

export async function connectInspector(wsUrl: string): Promise<InspectorClient> {
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot connect to the inspector at ${wsUrl}`)), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.addEventListener('message', (ev: MessageEvent) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message?: string } };
    if (msg.id === undefined) return;
    const waiter = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error !== undefined) waiter?.reject(new Error(`inspector: ${msg.error.message ?? 'error'}`));
    else waiter?.resolve(msg.result);
  });
  const call = (method: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`inspector: ${method} timed out`));
      }, CALL_TIMEOUT_MS);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      ws.send(JSON.stringify({ id, method }));
    });
  return {
    async heapAfterGc() {
      await call('HeapProfiler.collectGarbage');
      const usage = (await call('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
      return { usedBytes: usage.usedSize, totalBytes: usage.totalSize };
    },
    close: () => ws.close(),
  };
}
