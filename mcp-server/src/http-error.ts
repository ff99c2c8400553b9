/**
 * Non-OAuth HTTP failures (origin refused, unknown session, malformed JSON-RPC). Each owns its status;
 * the one error handler in app.ts turns it into `{error, error_description}`.
 */
/** `session_forbidden`: another principal's MCP session — a 403 without a Bearer challenge, since no token would help. */
export type HttpErrorCode = 'forbidden_origin' | 'forbidden_host' | 'cookie_sessions_full' | 'session_forbidden' | 'session_not_found' | 'invalid_request' | 'not_found';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly code: HttpErrorCode;
  readonly status: HttpErrorStatus;
  constructor(code: HttpErrorCode, description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.code = code;
    this.status = statusOf(code);
  }
}

type HttpErrorStatus = 400 | 403 | 404 | 503;

function statusOf(code: HttpErrorCode): HttpErrorStatus {
  switch (code) {
    case 'forbidden_origin':
    case 'forbidden_host':
    case 'session_forbidden':
      return 403;
    case 'cookie_sessions_full':
      // A 503 means "nothing was done": the scale profile's proxy re-sends a 503 to another replica, whatever the
      // method (docker/scale/haproxy.cfg `retry-on`). Answer 503 only before any effect.
      return 503;
    case 'session_not_found':
    case 'not_found':
      return 404;
    case 'invalid_request':
      return 400;
  }
}

/**
 * A request that carried no credentials at all (RFC 6750 §3.1): answered 401 with a challenge that has no
 * `error` parameter. Kept apart from BearerError because it has no RFC 6750 error code.
 */
export class CredentialsRequired extends Error {
  override readonly name = 'CredentialsRequired';
  readonly status = 401;
  constructor(description = 'an access token is required') {
    super(description);
  }
}
