/**
 * The loopback redirect listener of a native app (RFC 8252 §7.3): 127.0.0.1, an ephemeral port, path /callback.
 * It accepts the first authorization response and nothing else.
 */
import { createServer, type Server } from 'node:http';
import { FlowError } from './errors.ts';

export interface CallbackListener {
  /** `http://127.0.0.1:<port>/callback`, the redirect_uri sent in this authorization request. */
  readonly redirectUri: string;
  /** Resolves with the full URL the user agent was redirected to. */
  wait(timeoutMs: number): Promise<URL>;
  /** Hands over a redirect URL a headless user agent caught before it reached the listener. */
  deliver(url: URL): void;
  close(): Promise<void>;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>mcp-lab-client</title>
<p>Authorization response received. You can close this tab and return to the terminal.</p>`;

export async function startCallbackListener(): Promise<CallbackListener> {
  let resolve!: (url: URL) => void;
  const received = new Promise<URL>((r) => (resolve = r));
  let done = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1`);
    if (req.method !== 'GET' || url.pathname !== '/callback') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (done) {
      res.writeHead(409, { 'content-type': 'text/plain' }).end('an authorization response was already received\n');
      return;
    }
    done = true;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
    resolve(new URL(`${redirectUri}${url.search}`));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new FlowError('the loopback redirect listener has no port');
  const redirectUri = `http://127.0.0.1:${address.port}/callback`;
  return {
    redirectUri,
    wait(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new FlowError('no authorization response arrived in time', { hint: 'finish the login in the browser, or use --login user:password' })),
          timeoutMs,
        );
        timer.unref();
      });
      return Promise.race([received, timeout]).finally(() => clearTimeout(timer));
    },
    deliver(url) {
      if (done) return;
      done = true;
      resolve(url);
    },
    close() {
      return new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      });
    },
  };
}
