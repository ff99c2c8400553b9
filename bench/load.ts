import autocannon from 'autocannon';

/** One load run: the same request, repeated by `connections` keep-alive connections for `durationS` seconds. */
export interface LoadSpec {
  readonly title: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly connections: number;
  readonly durationS: number;
  /** True when a response body is the expected answer (called for every response, whatever its status). */
  readonly validate: (body: string) => boolean;
  /**
   * Bearer tokens to rotate through, one per request in order (the `authorization` header is replaced). With
   * more tokens than the RS's verified-token cache holds (it evicts the oldest first), every request is a miss.
   */
  readonly rotateBearer?: readonly string[];
}

export interface LoadResult {
  readonly title: string;
  readonly durationS: number;
  /** Responses received (any status). */
  readonly responses: number;
  /** Mean of autocannon's per-second request counts. */
  readonly requestsPerS: number;
  /** Latency percentiles of 2xx responses, in whole milliseconds (autocannon's histogram resolution). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  /** Responses whose body failed `validate`. */
  readonly badBodies: number;
  /** Socket errors and timeouts. */
  readonly errors: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  /** A run is valid when every response was 2xx with the expected body and no request failed. */
  readonly valid: boolean;
  /** First body that failed validation, shortened, to explain an invalid run. */
  readonly sampleBadBody?: string;
}

const SAMPLE_BODY_CHARS = 300;

/** An autocannon request whose `authorization` header takes the next token of `tokens` each time. */
function rotatingRequest(headers: Readonly<Record<string, string>>, tokens: readonly string[]): autocannon.Request {
  if (tokens.length === 0) throw new Error('rotateBearer needs at least one token');
  let next = 0;
  return {
    setupRequest: (request) => {
      const token = tokens[next]!;
      next = (next + 1) % tokens.length;
      return { ...request, headers: { ...headers, authorization: `Bearer ${token}` } };
    },
  };
}

/** Runs autocannon once and checks every response. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let sampleBadBody: string | undefined;
  const instance = autocannon({
    title: spec.title,
    url: spec.url,
    method: spec.method,
    headers: { ...spec.headers },
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.rotateBearer === undefined ? {} : { requests: [rotatingRequest(spec.headers, spec.rotateBearer)] }),
    connections: spec.connections,
    duration: spec.durationS,
    timeout: 10,
    verifyBody: (raw) => {
      const body = typeof raw === 'string' ? raw : (raw?.toString() ?? '');
      const ok = spec.validate(body);
      if (!ok && sampleBadBody === undefined) sampleBadBody = body.slice(0, SAMPLE_BODY_CHARS);
      return ok;
    },
  });
  const result = await instance;
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const errors = result.errors + result.timeouts;
  return {
    title: spec.title,
    durationS: result.duration,
    responses: result.requests.total,
    requestsPerS: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    badBodies: result.mismatches,
    errors,
    statusCodes,
    valid: result.requests.total > 0 && result.non2xx === 0 && result.mismatches === 0 && errors === 0,
    ...(sampleBadBody === undefined ? {} : { sampleBadBody }),
  };
}
