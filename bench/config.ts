import { parseArgs } from 'node:util';

/**
 * The bench's configuration: `--scenario` from the command line, sizes from BENCH_* variables. Every problem is
 * collected and reported at once, naming the variable; the result is frozen.
 */
export type Scenario = 'throughput' | 'sse' | 'cli' | 'lean';
const SCENARIOS: readonly Scenario[] = ['throughput', 'sse', 'cli', 'lean'];

export interface BenchConfig {
  readonly scenario: Scenario;
  readonly rounds: number;
  readonly roundSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly sseStreams: number;
  /** Seconds of the tools/call run while the SSE streams are open. */
  readonly sseLoadSeconds: number;
  readonly sseLoadConnections: number;
  /** Cold and warm CLI runs each (scenario cli). */
  readonly cliRuns: number;
  /** Calls per sample of each path (scenario lean; 5 samples). */
  readonly leanCalls: number;
  /** Level of the lab RS's logger during the runs. */
  readonly rsLogLevel: string;
  /** Run the lab RS with --cpu-prof and summarise where its CPU went. */
  readonly profile: boolean;
  /** Where --profile keeps the .cpuprofile files (open them in Chrome DevTools); a temporary directory when unset. */
  readonly profileDir: string | undefined;
  /** Targets of the throughput scenario, in the order of the first round. */
  readonly targets: readonly ('a' | 'b' | 'c' | 'd' | 'e' | 'f')[];
}

export class BenchConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid bench configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'BenchConfigError';
    this.problems = problems;
  }
}

export function loadBenchConfig(argv: readonly string[], env: NodeJS.ProcessEnv): BenchConfig {
  const problems: string[] = [];
  let values: { scenario?: string | undefined; profile?: boolean | undefined; targets?: string | undefined } = {};
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        scenario: { type: 'string', default: 'throughput' },
        profile: { type: 'boolean', default: false },
        targets: { type: 'string', default: 'a,b,c,d,e,f' },
      },
      strict: true,
    }).values;
  } catch (err) {
    problems.push((err as Error).message);
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return n;
  };
  const scenario = values.scenario ?? 'throughput';
  if (!(SCENARIOS as readonly string[]).includes(scenario)) {
    problems.push(`--scenario must be one of ${SCENARIOS.join(', ')}, got ${JSON.stringify(scenario)}`);
  }
  const targets = (values.targets ?? 'a,b,c,d,e,f').split(',').map((t) => t.trim());
  for (const t of targets) if (!['a', 'b', 'c', 'd', 'e', 'f'].includes(t)) problems.push(`--targets lists a to f; got ${JSON.stringify(t)}`);
  const config: BenchConfig = {
    scenario: scenario as Scenario,
    rounds: int('BENCH_ROUNDS', 6, 1, 100),
    roundSeconds: int('BENCH_SECONDS', 5, 1, 600),
    warmupSeconds: int('BENCH_WARMUP_SECONDS', 2, 0, 60),
    connections: int('BENCH_CONNECTIONS', 50, 1, 5_000),
    sseStreams: int('BENCH_SSE_STREAMS', 2_000, 1, 10_000),
    sseLoadSeconds: int('BENCH_SSE_LOAD_SECONDS', 5, 1, 600),
    sseLoadConnections: int('BENCH_SSE_LOAD_CONNECTIONS', 10, 1, 1_000),
    cliRuns: int('BENCH_CLI_RUNS', 3, 1, 50),
    leanCalls: int('BENCH_LEAN_CALLS', 2_000, 200, 1_000_000),
    rsLogLevel: env.BENCH_RS_LOG_LEVEL ?? 'warn',
    profile: values.profile ?? false,
    profileDir: env.BENCH_PROFILE_DIR === undefined || env.BENCH_PROFILE_DIR === '' ? undefined : env.BENCH_PROFILE_DIR,
    targets: targets as ('a' | 'b' | 'c' | 'd' | 'e' | 'f')[],
  };
  if (problems.length > 0) throw new BenchConfigError(problems);
  return Object.freeze(config);
}
