/** Errors of the authz-metadata service; each owns the HTTP status it answers with. */

/** Startup configuration is unusable: the lab's one ConfigError, each problem naming the variable at fault. */
export { ConfigError } from '@mcp-lab/protocol/config';

/** The upstream authorization server could not be reached or broke off before answering (RFC 9110 §15.6.3). */
export class BadGatewayError extends Error {
  override readonly name = 'BadGatewayError';
  readonly statusCode = 502;
  readonly code = 'bad_gateway';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
