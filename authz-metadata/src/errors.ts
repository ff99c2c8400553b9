/** Errors of the authz-metadata service; each owns the HTTP status it answers with. */

/** Startup configuration is unusable; lists every problem, each naming the environment variable at fault. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(`authz-metadata configuration is invalid:\n  - ${problems.join('\n  - ')}`, options);
    this.problems = Object.freeze([...problems]);
  }
}

/** The upstream authorization server could not be reached or broke off before answering (RFC 9110 §15.6.3). */
export class BadGatewayError extends Error {
  override readonly name = 'BadGatewayError';
  readonly statusCode = 502;
  readonly code = 'bad_gateway';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
