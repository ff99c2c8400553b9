/**
 * The 401 challenge an MCP server sends a request without credentials, and its answer to a malformed
 * `Authorization` header (RFC 9110 §11.6.1 grammar via the shared parser, RFC 6750 §3, RFC 9728 §5.1).
 */
import { WwwAuthenticateSyntaxError, findChallenge, parseWwwAuthenticate, type Challenge } from '@mcp-lab/protocol';
import { isSecureOrLoopback } from '../../loopback.ts';
import type { CheckDefinition } from '../check.ts';
import { describeProbe, type DoctorContext } from '../context.ts';
import { INITIALIZE_REQUEST, jsonRpcInit, reportAllNotApplicable, type CheckModule } from '../module.ts';
import { mcp, rfc } from '../spec.ts';

export const CHALLENGE_401: CheckDefinition = {
  id: 'challenge-401',
  concern: 'challenge',
  title: 'A request without credentials is answered 401',
  meaning: 'An MCP client learns that authorization is needed, and where to get it, only from a 401 to its first request.',
  spec: mcp('basic/authorization', 'Authorization Server Discovery', 'authorization-server-discovery'),
  fix: 'Answer an MCP request without an Authorization header with 401 and a Bearer challenge, before any MCP processing.',
  needsCredentials: false,
};

export const CHALLENGE_GRAMMAR: CheckDefinition = {
  id: 'challenge-grammar',
  concern: 'challenge',
  title: 'WWW-Authenticate follows the RFC 9110 grammar and carries a Bearer challenge',
  meaning: 'A header clients cannot parse (an unescaped quote, a missing comma) leaves them without resource_metadata or scope.',
  spec: rfc(9110, '11.6.1'),
  fix: 'Build the header with a serializer that quotes every value and escapes " and \\ inside quoted-strings (RFC 9110 §5.6.4).',
  needsCredentials: false,
};

export const CHALLENGE_RESOURCE_METADATA: CheckDefinition = {
  id: 'challenge-resource-metadata',
  concern: 'challenge',
  title: 'The Bearer challenge names the Protected Resource Metadata URL (resource_metadata)',
  meaning: 'Without resource_metadata a client must guess well-known URLs; MCP servers are expected to point at their metadata.',
  spec: rfc(9728, '5.1'),
  fix: 'Add resource_metadata="<https URL of your /.well-known/oauth-protected-resource document>" to every 401 challenge.',
  needsCredentials: false,
};

export const CHALLENGE_SCOPE: CheckDefinition = {
  id: 'challenge-scope',
  concern: 'challenge',
  title: 'The Bearer challenge says which scope to request (scope)',
  meaning: 'Clients request the challenge scope first (MCP Scope Selection Strategy); without it they fall back to scopes_supported or none.',
  spec: mcp('basic/authorization', 'Scope Selection Strategy', 'scope-selection-strategy'),
  fix: 'Add scope="<the scopes this endpoint needs>" to the 401 challenge.',
  needsCredentials: false,
};

export const CHALLENGE_NO_ERROR: CheckDefinition = {
  id: 'challenge-no-error-without-credentials',
  concern: 'challenge',
  title: 'No error code in the challenge to a request without credentials',
  meaning: 'RFC 6750 says a request that carried no credentials gets no error code; invalid_token there misleads clients into refreshing.',
  spec: rfc(6750, '3.1'),
  fix: 'Send error="invalid_token" only when a token was presented; for no credentials send only resource_metadata and scope.',
  needsCredentials: false,
};

export const CHALLENGE_MALFORMED: CheckDefinition = {
  id: 'challenge-malformed-header',
  concern: 'challenge',
  title: 'A malformed Authorization header is answered 400 invalid_request',
  meaning: 'A malformed request is not an authentication failure; a 2xx would mean garbage credentials were accepted, a 5xx blames the server.',
  spec: rfc(6750, '3.1'),
  fix: 'Parse the header as RFC 6750 §2.1 credentials ("Bearer" 1*SP b64token) and answer anything else 400 with error="invalid_request".',
  needsCredentials: false,
};

const CHECKS = [CHALLENGE_401, CHALLENGE_GRAMMAR, CHALLENGE_RESOURCE_METADATA, CHALLENGE_SCOPE, CHALLENGE_NO_ERROR, CHALLENGE_MALFORMED];

function parseChallenge(header: string): { challenge: Challenge | undefined; error: string | undefined } {
  try {
    return { challenge: findChallenge(parseWwwAuthenticate(header), 'Bearer'), error: undefined };
  } catch (err) {
    if (err instanceof WwwAuthenticateSyntaxError) return { challenge: undefined, error: err.message };
    throw err;
  }
}

async function run(ctx: DoctorContext): Promise<void> {
  const probe = await ctx.send('MCP request without credentials', ctx.serverUrl, jsonRpcInit(INITIALIZE_REQUEST));
  const ev = [probe.evidence];
  const header = probe.response?.headers.get('www-authenticate') ?? null;
  if (probe.status === undefined) {
    ctx.facts.probe = { status: undefined, header, challenge: undefined, grammarOk: false, authRequired: false };
    ctx.report(CHALLENGE_401, 'fail', `the MCP server cannot be reached: ${probe.error ?? 'network error'}`, ev);
    reportAllNotApplicable(ctx, CHECKS.slice(1), 'the MCP server cannot be reached (see challenge-401)');
    return;
  }
  if (probe.status >= 200 && probe.status < 300) {
    ctx.facts.probe = { status: probe.status, header, challenge: undefined, grammarOk: false, authRequired: false };
    ctx.report(CHALLENGE_401, 'not-applicable', `the server answered ${describeProbe(probe)} without credentials: it does not require authorization`, ev);
    reportAllNotApplicable(ctx, CHECKS.slice(1), 'the server does not ask for credentials');
    return;
  }
  ctx.report(CHALLENGE_401, probe.status === 401 ? 'pass' : 'fail', `${describeProbe(probe)} to a request without credentials`, ev);

  let challenge: Challenge | undefined;
  if (header === null) {
    ctx.report(CHALLENGE_GRAMMAR, 'fail', `no WWW-Authenticate header on the ${describeProbe(probe)}`, ev);
  } else {
    const parsed = parseChallenge(header);
    challenge = parsed.challenge;
    if (parsed.error) ctx.report(CHALLENGE_GRAMMAR, 'fail', `WWW-Authenticate does not parse: ${parsed.error}`, ev);
    else if (!challenge) ctx.report(CHALLENGE_GRAMMAR, 'fail', 'WWW-Authenticate parses but has no Bearer challenge', ev);
    else ctx.report(CHALLENGE_GRAMMAR, 'pass', `Bearer challenge with ${Object.keys(challenge.params).join(', ') || 'no parameters'}`, ev);
  }
  ctx.facts.probe = { status: probe.status, header, challenge, grammarOk: challenge !== undefined, authRequired: true };

  if (!challenge) {
    reportAllNotApplicable(ctx, [CHALLENGE_RESOURCE_METADATA, CHALLENGE_SCOPE, CHALLENGE_NO_ERROR], 'there is no Bearer challenge to read (see challenge-grammar)');
  } else {
    const rm = challenge.params.resource_metadata;
    if (rm === undefined) ctx.report(CHALLENGE_RESOURCE_METADATA, 'fail', 'the Bearer challenge has no resource_metadata parameter', ev);
    else if (!safeSecure(rm)) ctx.report(CHALLENGE_RESOURCE_METADATA, 'fail', `resource_metadata is not an https (or loopback http) URL: ${rm}`, ev);
    else ctx.report(CHALLENGE_RESOURCE_METADATA, 'pass', rm, ev);
    const scope = challenge.params.scope;
    ctx.report(CHALLENGE_SCOPE, scope ? 'pass' : 'warn', scope ? `scope="${scope}"` : 'the Bearer challenge has no scope parameter', ev);
    const error = challenge.params.error;
    ctx.report(CHALLENGE_NO_ERROR, error === undefined ? 'pass' : 'warn', error === undefined ? 'no error parameter' : `error="${error}" although no credentials were sent`, ev);
  }

  const bad = await ctx.send('MCP request with a malformed Authorization header', ctx.serverUrl, jsonRpcInit(INITIALIZE_REQUEST, { authorization: 'Bearer not a b64token' }));
  const code = bad.response ? parseChallenge(bad.response.headers.get('www-authenticate') ?? '').challenge?.params.error : undefined;
  const status = bad.status;
  const what = `${describeProbe(bad)}${code ? ` error="${code}"` : ''} to "Authorization: Bearer not a b64token"`;
  if (status === 400) ctx.report(CHALLENGE_MALFORMED, code === undefined || code === 'invalid_request' ? 'pass' : 'warn', what, [bad.evidence]);
  else if (status === undefined || (status >= 200 && status < 300) || status >= 500) ctx.report(CHALLENGE_MALFORMED, 'fail', what, [bad.evidence]);
  else ctx.report(CHALLENGE_MALFORMED, 'warn', what, [bad.evidence]);
}

function safeSecure(url: string): boolean {
  try {
    return isSecureOrLoopback(url);
  } catch {
    return false;
  }
}

export const challengeModule: CheckModule = { name: 'challenge', checks: CHECKS, run };
