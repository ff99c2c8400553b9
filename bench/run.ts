/**
 * `npm run bench [-- --scenario throughput|sse|cli|reliability|lean|scale] [--targets a,b,c,d,e,f] [--profile]`
 * Results go to stdout; progress and diagnostics to stderr. Exit code 1 when a run was invalid or failed.
 */
import { ConfigError } from '@mcp-lab/protocol/config';
import { loadBenchConfig, type BenchConfig } from './config.ts';
import { stopAllChildren } from './proc.ts';
import type { Log } from './report.ts';
import { runCli } from './scenarios/cli.ts';
import { runLean } from './scenarios/lean.ts';
import { runReliability } from './scenarios/reliability.ts';
import { runScale } from './scenarios/scale.ts';
import { runSse } from './scenarios/sse.ts';
import { runThroughput } from './scenarios/throughput.ts';

const log: Log = (line) => {
  process.stderr.write(`${line}\n`);
};

function run(config: BenchConfig): Promise<{ report: string; valid: boolean }> {
  switch (config.scenario) {
    case 'throughput':
      return runThroughput(config, log);
    case 'sse':
      return runSse(config, log);
    case 'cli':
      return runCli(config, log);
    case 'lean':
      return runLean(config, log);
    case 'reliability':
      return runReliability(config, log);
    case 'scale':
      return runScale(config, log);
  }
}

/** Ctrl-C: stop the servers this bench started, then die of the same signal. */
function onSignal(signal: NodeJS.Signals): void {
  log(`${signal}: stopping servers`);
  void stopAllChildren().finally(() => process.kill(process.pid, signal));
}

let config: BenchConfig | undefined;
try {
  config = loadBenchConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  log(err.message);
  process.exitCode = 2;
}
if (config !== undefined) {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const { report, valid } = await run(config);
  process.stdout.write(`${report}\n`);
  if (!valid) {
    log('the run is INVALID (see the report)');
    process.exitCode = 1;
  }
}
