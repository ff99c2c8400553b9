/** `node web/src/main.ts`: builds the page's bundle, serves it, closes on SIGTERM/SIGINT. */
import { buildApp } from './app.ts';
import { buildBundle } from './bundle.ts';
import { loadConfig } from './config.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await buildApp(config, { bundle: await buildBundle() });
  await app.listen({ host: config.host, port: config.port });
  const stop = async () => {
    await app.close();
    process.exitCode = 0;
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`web: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
