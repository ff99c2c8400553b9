/**
 * Configuration of the bench's own servers, read once from the environment the orchestrator sets
 * (BENCH_PORT, and for the peer BENCH_ISSUER, BENCH_JWKS_URL, BENCH_AUDIENCE). Every problem is reported at once.
 */
export interface BenchServerConfig {
  readonly port: number;
  readonly issuer: string;
  readonly jwksUrl: URL;
  readonly audience: string;
}

export function loadPortConfig(env: NodeJS.ProcessEnv): { readonly port: number } {
  const port = Number(env.BENCH_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(`BENCH_PORT must be a TCP port, got ${JSON.stringify(env.BENCH_PORT)}`);
  }
  return Object.freeze({ port });
}

export function loadPeerConfig(env: NodeJS.ProcessEnv): BenchServerConfig {
  const problems: string[] = [];
  let port = 0;
  try {
    port = loadPortConfig(env).port;
  } catch (err) {
    problems.push((err as Error).message);
  }
  const url = (name: string): URL | undefined => {
    const raw = env[name];
    if (raw === undefined || !URL.canParse(raw)) {
      problems.push(`${name} must be an absolute URL, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    return new URL(raw);
  };
  const issuer = url('BENCH_ISSUER');
  const jwksUrl = url('BENCH_JWKS_URL');
  const audience = url('BENCH_AUDIENCE');
  if (problems.length > 0 || issuer === undefined || jwksUrl === undefined || audience === undefined) {
    throw new Error(`invalid peer configuration:\n  ${problems.join('\n  ')}`);
  }
  // Issuer and audience are compared as strings by jose: keep them exactly as given.
  return Object.freeze({ port, issuer: env.BENCH_ISSUER as string, jwksUrl, audience: env.BENCH_AUDIENCE as string });
}
