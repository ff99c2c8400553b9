import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { loadMetadataDocument } from './document.ts';
import { ConfigError } from './errors.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // Read once, at start: the document is static and a wrong one must stop the service here.
  const document = config.metadataEnabled ? loadMetadataDocument(config.documentPath, config.issuer) : undefined;
  const app = await buildApp(config, { document });

  const close = (signal: string): void => {
    app.log.info({ signal }, 'closing');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);

  await app.listen({ host: config.host, port: config.port });
  app.log.info(
    { issuer: config.issuer, upstream: config.upstream.origin, metadata: config.metadataEnabled },
    'authz-metadata ready',
  );
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`authz-metadata failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
