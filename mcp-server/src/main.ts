/**
 * Starts the resource server: loads config from the environment, listens, and drains then closes on SIGTERM/SIGINT.
 */
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import type { RsConfig } from './config.ts';
import { drainAndClose } from './http/drain.ts';

let config: RsConfig;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

const app = await buildApp(config);
await app.listen({ host: config.host, port: config.port });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
console.log(`mcp-lab resource server listening on http://${config.host}:${port} (public ${config.publicUrl})`);

// SIGTERM/SIGINT: the drain (http/drain.ts) — readiness 503 for MCP_DRAIN_DELAY_MS while requests are still served,
// then no new connections, the requests in flight finish, the held streams end cleanly, exit 0. A second signal
// skips what is left of the delay.
const skipDelay = new AbortController();
/** Exits once the log is written out: pino writes asynchronously, and the last lines say how the drain went. */
function exit(code: number): void {
  const log = app.log as typeof app.log & { flush?: (done: (err?: Error) => void) => void };
  if (!log.flush) process.exit(code);
  // Within a second in any case: a log that cannot be written must not keep the process up.
  setTimeout(() => process.exit(code), 1_000);
  log.flush(() => process.exit(code));
}

let shuttingDown = false;
function shutdown(signal: NodeJS.Signals): void {
  if (shuttingDown) {
    app.log.info({ signal }, 'second signal: skipping the rest of the drain delay');
    skipDelay.abort();
    return;
  }
  shuttingDown = true;
  app.log.info({ signal }, 'shutting down');
  drainAndClose(app, { delayMs: config.drainDelayMs, timeoutMs: config.limits.drainTimeoutMs, skipDelay: skipDelay.signal }).then(
    () => exit(0),
    (err: unknown) => {
      app.log.error({ err }, 'shutdown failed');
      exit(1);
    },
  );
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
