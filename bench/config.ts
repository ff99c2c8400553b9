import { parseArgs } from 'node:util';

/**
 * The bench's configuration: `--scenario` from the command line, sizes from BENCH_* variables. Every problem is
 * collected and reported at once, naming the variable; the result is frozen.
 */
export type Scenario = 'throughput' | 'sse' | 'cli' | 'reliability';
const SCENARIOS: readonly Scenario[] = ['throughput', 'sse', 'cli', 'reliability'];

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
  /** Scenario reliability: seconds of each whoami run of user B (unloaded, loaded). */
  readonly reliabilitySeconds: number;
  /** Connections of user A's notes_list hammering, and of user B's whoami. */
  readonly reliabilityAConnections: number;
  /** User B's steady request rate (an ordinary user, within the RS's per-subject rate limit). */
  readonly reliabilityBRatePerS: number;
  /** Simulated IdP outage (injected clock): minutes, step, and the RS's JWKS timeout during it. */
  readonly outageMinutes: number;
  readonly outageStepS: number;
  readonly outageTimeoutMs: number;
  /** Level of the lab RS's logger during the runs. */
  readonly rsLogLevel: string;
  /** Run the lab RS with --cpu-prof and summarise where its CPU went. */
  readonly profile: boolean;
  /** Where --profile keeps the .cpuprofile files (open them in Chrome DevTools); a temporary directory when unset. */
  readonly profileDir: string | undefined;
  /** Targets of the throughput scenario, in the order of the first round. */
  readonly targets: readonly ('a' | 'b' | 'c')[];
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
        targets: { type: 'string', default: 'a,b,c' },
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
  const targets = (values.targets ?? 'a,b,c').split(',').map((t) => t.trim());
  for (const t of targets) if (t !== 'a' && t !== 'b' && t !== 'c') problems.push(`--targets lists a, b or c; got ${JSON.stringify(t)}`);
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
    reliabilitySeconds: int('BENCH_RELIABILITY_SECONDS', 10, 1, 600),
    reliabilityAConnections: int('BENCH_RELIABILITY_A_CONNECTIONS', 4, 1, 200),
    reliabilityBRatePerS: int('BENCH_RELIABILITY_B_RATE', 40, 1, 1_000),
    outageMinutes: int('BENCH_OUTAGE_MINUTES', 15, 1, 1_440),
    outageStepS: int('BENCH_OUTAGE_STEP_S', 20, 1, 3_600),
    outageTimeoutMs: int('BENCH_OUTAGE_JWKS_TIMEOUT_MS', 500, 50, 120_000),
    rsLogLevel: env.BENCH_RS_LOG_LEVEL ?? 'warn',
    profile: values.profile ?? false,
    profileDir: env.BENCH_PROFILE_DIR === undefined || env.BENCH_PROFILE_DIR === '' ? undefined : env.BENCH_PROFILE_DIR,
    targets: targets as ('a' | 'b' | 'c')[],
  };
  if (problems.length > 0) throw new BenchConfigError(problems);
  return Object.freeze(config);
}
