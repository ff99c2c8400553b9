import { parseArgs } from 'node:util';
import { ConfigReader, LOG_LEVELS, parseOneOf, splitList, type Env, type LogLevel } from '@mcp-lab/protocol/config';

/**
 * The bench's configuration: `--scenario` from the command line, sizes from BENCH_* variables. Every problem is
 * collected and reported at once (one ConfigError from the lab's toolkit), naming the option or variable; the
 * result is frozen.
 */
export const SCENARIOS = ['throughput', 'sse', 'cli', 'reliability', 'lean', 'scale'] as const;
export type Scenario = (typeof SCENARIOS)[number];
/** a ceiling, b SDK peer, c/f lab RS 2025 session, d/e lab RS 2026-07-28 stateless (e, f: a new token per request). */
export const TARGETS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
export type Target = (typeof TARGETS)[number];

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
  /** Scenario reliability: seconds of each whoami run of user B (unloaded, loaded). */
  readonly reliabilitySeconds: number;
  /** Connections of user A's notes_list hammering. */
  readonly reliabilityAConnections: number;
  /** User B's steady request rate (an ordinary user, within the RS's per-subject rate limit). */
  readonly reliabilityBRatePerS: number;
  /** Simulated IdP outage (injected clock): minutes, step, and the RS's JWKS timeout during it. */
  readonly outageMinutes: number;
  readonly outageStepS: number;
  readonly outageTimeoutMs: number;
  /** Level of the lab RS's logger during the runs. */
  readonly rsLogLevel: LogLevel;
  /** Run the lab RS with --cpu-prof and summarise where its CPU went. */
  readonly profile: boolean;
  /** Where --profile keeps the .cpuprofile files (open them in Chrome DevTools); a temporary directory when unset. */
  readonly profileDir: string | undefined;
  /** Targets of the throughput scenario, in the order of the first round. */
  readonly targets: readonly Target[];
}

const OPTIONS = {
  scenario: { type: 'string', default: 'throughput' },
  profile: { type: 'boolean', default: false },
  targets: { type: 'string', default: TARGETS.join(',') },
} as const;

/** @throws ConfigError naming every bad option and variable. */
export function loadBenchConfig(argv: readonly string[], env: Env): BenchConfig {
  const r = new ConfigReader('bench', env);
  let values: { scenario?: string; profile?: boolean; targets?: string } = {};
  try {
    values = parseArgs({ args: [...argv], options: OPTIONS, strict: true }).values;
  } catch (err) {
    r.problem('command line', err instanceof Error ? err.message : String(err));
  }
  const scenario = r.accept('--scenario', parseOneOf(values.scenario ?? 'throughput', SCENARIOS)) ?? 'throughput';
  const targets = splitList(values.targets ?? TARGETS.join(',')).flatMap((t) => {
    const target = r.accept('--targets', parseOneOf(t, TARGETS));
    return target === undefined ? [] : [target];
  });
  r.check('--targets', targets.length > 0 || values.targets === undefined, `must list at least one of ${TARGETS.join(', ')}`);
  return r.finish({
    scenario,
    rounds: r.int('BENCH_ROUNDS', 6, { min: 1, max: 100 }),
    roundSeconds: r.int('BENCH_SECONDS', 5, { min: 1, max: 600 }),
    warmupSeconds: r.int('BENCH_WARMUP_SECONDS', 2, { min: 0, max: 60 }),
    connections: r.int('BENCH_CONNECTIONS', 50, { min: 1, max: 5_000 }),
    sseStreams: r.int('BENCH_SSE_STREAMS', 2_000, { min: 1, max: 10_000 }),
    sseLoadSeconds: r.int('BENCH_SSE_LOAD_SECONDS', 5, { min: 1, max: 600 }),
    sseLoadConnections: r.int('BENCH_SSE_LOAD_CONNECTIONS', 10, { min: 1, max: 1_000 }),
    cliRuns: r.int('BENCH_CLI_RUNS', 3, { min: 1, max: 50 }),
    leanCalls: r.int('BENCH_LEAN_CALLS', 2_000, { min: 200, max: 1_000_000 }),
    reliabilitySeconds: r.int('BENCH_RELIABILITY_SECONDS', 10, { min: 1, max: 600 }),
    reliabilityAConnections: r.int('BENCH_RELIABILITY_A_CONNECTIONS', 4, { min: 1, max: 200 }),
    reliabilityBRatePerS: r.int('BENCH_RELIABILITY_B_RATE', 40, { min: 1, max: 1_000 }),
    outageMinutes: r.int('BENCH_OUTAGE_MINUTES', 15, { min: 1, max: 1_440 }),
    outageStepS: r.int('BENCH_OUTAGE_STEP_S', 20, { min: 1, max: 3_600 }),
    outageTimeoutMs: r.int('BENCH_OUTAGE_JWKS_TIMEOUT_MS', 500, { min: 50, max: 120_000 }),
    rsLogLevel: r.oneOf('BENCH_RS_LOG_LEVEL', LOG_LEVELS, 'warn'),
    profile: values.profile ?? false,
    profileDir: r.raw('BENCH_PROFILE_DIR'),
    targets,
  });
}
