/**
 * The token checks a resource server must make (RFC 8707 / RFC 9068 audience, RFC 7519 exp, RFC 8725 signature
 * and algorithm): with a valid token accepted, a token for another audience, an expired token, a changed
 * signature and `alg: none` must each be refused with 401.
 */
import type { CheckDefinition } from '../check.ts';
import { describeProbe, type DoctorContext } from '../context.ts';
import { withAlgNone, withChangedSignature } from '../jwt.ts';
import { INITIALIZE_REQUEST, jsonRpcInit, reportAllNotApplicable, type CheckModule } from '../module.ts';
import { mcp, rfc } from '../spec.ts';

export const TOKEN_ACCEPTED: CheckDefinition = {
  id: 'token-accepted',
  concern: 'token',
  title: 'A valid token for this server is accepted',
  meaning: 'The refusals below mean something only when the server accepts a good token.',
  spec: rfc(6750, '2.1'),
  fix: 'Accept tokens whose iss, aud (this server\'s resource identifier), exp and signature are valid.',
  needsCredentials: true,
};

export const TOKEN_FOREIGN_AUDIENCE: CheckDefinition = {
  id: 'token-foreign-audience',
  concern: 'token',
  title: 'A token issued for another audience is refused',
  meaning: 'A server that does not check aud accepts tokens meant for other services: any of them can replay its users\' tokens here.',
  spec: mcp('basic/authorization', 'Token Audience Binding and Validation', 'token-audience-binding-and-validation'),
  fix: 'Check that aud contains this server\'s canonical resource identifier (RFC 8707) and answer 401 invalid_token otherwise.',
  needsCredentials: true,
};

export const TOKEN_EXPIRED: CheckDefinition = {
  id: 'token-expired',
  concern: 'token',
  title: 'An expired token is refused',
  meaning: 'A server that ignores exp accepts stolen tokens forever.',
  spec: rfc(7519, '4.1.4'),
  fix: 'Reject tokens whose exp is in the past (allowing at most a small clock skew) with 401 invalid_token.',
  needsCredentials: true,
};

export const TOKEN_SIGNATURE: CheckDefinition = {
  id: 'token-signature',
  concern: 'token',
  title: 'A token with a changed signature is refused',
  meaning: 'A server that does not verify the signature accepts any claims anyone writes.',
  spec: rfc(8725, '3.1'),
  fix: 'Verify the JWS signature against the issuer\'s JWKS before reading any claim.',
  needsCredentials: true,
};

export const TOKEN_ALG_NONE: CheckDefinition = {
  id: 'token-alg-none',
  concern: 'token',
  title: 'An unsigned token (alg: none) is refused',
  meaning: 'Accepting alg none lets anyone forge tokens for any user.',
  spec: rfc(8725, '2.1'),
  fix: 'Accept only an explicit list of asymmetric algorithms (e.g. RS256, ES256); never none.',
  needsCredentials: true,
};

const CHECKS = [TOKEN_ACCEPTED, TOKEN_FOREIGN_AUDIENCE, TOKEN_EXPIRED, TOKEN_SIGNATURE, TOKEN_ALG_NONE];

async function present(ctx: DoctorContext, purpose: string, token: string) {
  const body = ctx.facts.mcpRequest?.body ?? INITIALIZE_REQUEST;
  const headers = ctx.facts.mcpRequest?.headers ?? {};
  const p = await ctx.send(purpose, ctx.serverUrl, jsonRpcInit(body, { ...headers, authorization: `Bearer ${token}` }));
  const sessionId = p.response?.headers.get('mcp-session-id');
  if (sessionId) await ctx.send('end the session', ctx.serverUrl, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId } });
  return p;
}

/** 401 → pass; another 4xx → warn (refused, but not as RFC 6750 asks); 2xx, 5xx or no answer → fail. */
async function mustRefuse(ctx: DoctorContext, def: CheckDefinition, what: string, token: string | undefined, missing: string): Promise<void> {
  if (token === undefined) {
    ctx.report(def, 'not-applicable', missing);
    return;
  }
  const p = await present(ctx, `MCP request with ${what}`, token);
  const summary = `${describeProbe(p)} to ${what}`;
  const ev = [p.evidence];
  if (p.status === 401) ctx.report(def, 'pass', summary, ev);
  else if (p.status !== undefined && p.status >= 400 && p.status < 500) ctx.report(def, 'warn', `${summary}: refused, but 401 invalid_token is expected`, ev);
  else ctx.report(def, 'fail', `${summary}${p.status !== undefined && p.status < 300 ? ': accepted' : ''}`, ev);
}

async function run(ctx: DoctorContext): Promise<void> {
  const f = ctx.facts;
  if (!f.token) {
    reportAllNotApplicable(ctx, CHECKS, f.noTokenReason ?? 'no token: run with --login user:password or --token T');
    return;
  }
  const valid = f.token.accessToken;
  const accepted = await present(ctx, 'MCP request with the valid token', valid);
  const ok = accepted.status !== undefined && accepted.status >= 200 && accepted.status < 300;
  ctx.report(TOKEN_ACCEPTED, ok ? 'pass' : 'fail', `${describeProbe(accepted)} to the valid token (${f.token.source === 'login' ? 'from the login' : '--token'})`, [accepted.evidence]);
  if (!ok) {
    reportAllNotApplicable(ctx, CHECKS.slice(1), 'the valid token is refused too (see token-accepted), so a refusal proves nothing');
    return;
  }
  await mustRefuse(ctx, TOKEN_FOREIGN_AUDIENCE, 'a token for another audience', f.foreignToken, f.noForeignTokenReason ?? 'no token for another audience');
  await mustRefuse(ctx, TOKEN_EXPIRED, 'an expired token', f.expiredToken, 'no expired token: the doctor mints nothing it cannot sign; pass --expired-token T (an expired token of this AS)');
  const notJwt = 'the access token is not a JWT (an opaque token): tampering with it proves nothing';
  await mustRefuse(ctx, TOKEN_SIGNATURE, 'the valid token with one signature bit flipped', withChangedSignature(valid), notJwt);
  await mustRefuse(ctx, TOKEN_ALG_NONE, 'the valid token\'s claims under alg: none, unsigned', withAlgNone(valid), notJwt);
}

export const tokensModule: CheckModule = { name: 'tokens', checks: CHECKS, run };
