import { createServer } from 'node:http';
import { buildIdp, ConfigError, loadConfig } from './app.ts';

/** Starts the embedded IdP on IDP_HOST:IDP_PORT and prints its issuer; closes on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const idp = await buildIdp(config);
  const server = createServer(idp.handler);
  server.on('error', (err) => {
    idp.logger.fatal({ err }, `cannot listen on ${config.host}:${config.port}`);
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    idp.logger.info({ event: 'listening', issuer: idp.issuer, host: config.host, port: config.port }, 'embedded IdP ready');
    process.stdout.write(`embedded IdP issuer: ${idp.issuer}\n`);
  });
  const shutdown = (signal: string) => {
    idp.logger.info({ event: 'shutdown', signal }, 'closing');
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

await main();
