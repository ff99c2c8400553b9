import { ConfigError } from '@mcp-lab/protocol/config';
import { describe, expect, it } from 'vitest';
import { loadBenchConfig } from '../config.ts';

function problemsOf(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    loadBenchConfig(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadBenchConfig', () => {
  it('defaults: throughput over a to f (both eras of the lab RS); frozen', () => {
    const c = loadBenchConfig([], {});
    expect(c).toEqual({
      scenario: 'throughput',
      rounds: 6,
      roundSeconds: 5,
      warmupSeconds: 2,
      connections: 50,
      sseStreams: 2_000,
      sseLoadSeconds: 5,
      sseLoadConnections: 10,
      cliRuns: 3,
      leanCalls: 2_000,
      reliabilitySeconds: 10,
      reliabilityAConnections: 4,
      reliabilityBRatePerS: 40,
      outageMinutes: 15,
      outageStepS: 20,
      outageTimeoutMs: 500,
      rsLogLevel: 'warn',
      profile: false,
      profileDir: undefined,
      targets: ['a', 'b', 'c', 'd', 'e', 'f'],
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.targets)).toBe(true);
  });

  it('reads the options and BENCH_* variables', () => {
    const c = loadBenchConfig(['--scenario', 'sse', '--profile', '--targets', 'c, a'], {
      BENCH_ROUNDS: '2',
      BENCH_SSE_STREAMS: '10',
      BENCH_RS_LOG_LEVEL: 'silent',
      BENCH_PROFILE_DIR: '/tmp/prof',
    });
    expect(c).toMatchObject({ scenario: 'sse', profile: true, targets: ['c', 'a'], rounds: 2, sseStreams: 10, rsLogLevel: 'silent', profileDir: '/tmp/prof' });
  });

  it.each<[string, string[], Record<string, string>, RegExp]>([
    ['an unknown scenario', ['--scenario', 'soak'], {}, /^--scenario: must be one of throughput, sse, cli, reliability, lean, scale, got "soak"$/],
    ['an unknown target', ['--targets', 'a,g'], {}, /^--targets: must be one of a, b, c, d, e, f, got "g"$/],
    ['no targets', ['--targets', ''], {}, /^--targets: must list at least one of a, b, c, d, e, f$/],
    ['an unknown option', ['--rounds', '3'], {}, /^command line: Unknown option '--rounds'/],
    ['rounds out of range', [], { BENCH_ROUNDS: '0' }, /^BENCH_ROUNDS: must be an integer from 1 to 100, got "0"$/],
    ['a fractional duration', [], { BENCH_SECONDS: '2.5' }, /^BENCH_SECONDS: must be an integer/],
    ['an unknown RS log level', [], { BENCH_RS_LOG_LEVEL: 'loud' }, /^BENCH_RS_LOG_LEVEL: must be one of fatal, error/],
  ])('refuses %s, naming it', (_name, argv, env, message) => {
    const problems = problemsOf(argv, env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('reports every problem at once', () => {
    expect(problemsOf(['--scenario', 'x'], { BENCH_ROUNDS: 'x', BENCH_CONNECTIONS: '0' }).map((p) => p.split(':')[0])).toEqual([
      '--scenario',
      'BENCH_ROUNDS',
      'BENCH_CONNECTIONS',
    ]);
  });
});
