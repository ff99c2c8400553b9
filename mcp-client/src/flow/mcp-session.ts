/**
 * MCP over the authorized transport: initialize, then the command's operations. When the resource server
 * refuses a request, nextAction decides what follows (discovery, refresh, a new authorization, a step-up, or
 * giving up); the failed step's event shows that same decision as `next`.
 */
import { FlowError } from '../errors.ts';
import { redactToken } from '../redact.ts';
import { selectScopes } from '../scopes.ts';
import type { StoredTokens } from '../store.ts';
import { AuthFailureError, connectMcp, openCookieSession, type AuthFailure, type McpAuth, type McpConnection } from '../steps/mcp.ts';
import { effectiveEra } from '../steps/era.ts';
import { splitScope } from '../steps/probe.ts';
import { initialScopes, authorize } from './authorization.ts';
import { discover } from './discovery.ts';
import { describeNext, nextAction, type GiveUpReason, type NextAction, type RecoveryState } from './next-action.ts';
import { refresh } from './tokens.ts';
import type { AuthContext, FlowResult, FlowRun, StepData, ToolSummary } from './types.ts';

/** The token in use and how it was obtained (see TokenOrigin). */
type Held =
  | { readonly origin: 'none' }
  | { readonly origin: 'warm'; readonly tokens: StoredTokens }
  | { readonly origin: 'discovered'; readonly auth: AuthContext; readonly tokens: StoredTokens };

/** What one session has tried so far, across its recoveries. */
interface Session {
  held: Held;
  refreshTried: boolean;
  reauthorized: boolean;
  stepUps: number;
  readonly maxStepUps: number;
}

type Operation = 'tools-list' | 'tools-call';

const DEFAULT_MAX_STEP_UPS = 2;

function recoveryState(s: Session): RecoveryState {
  return {
    token: s.held.origin,
    hasRefreshToken: s.held.origin !== 'none' && s.held.tokens.refresh_token !== undefined,
    refreshTried: s.refreshTried,
    reauthorized: s.reauthorized,
    stepUps: s.stepUps,
    maxStepUps: s.maxStepUps,
  };
}

function decide(err: FlowError, s: Session): NextAction {
  return nextAction(err instanceof AuthFailureError ? err.failure : undefined, recoveryState(s));
}

/** Runs the command's MCP operations with `held` credentials, recovering from refusals as nextAction decides. */
export async function runMcp(run: FlowRun, serverUrl: string, held: Held): Promise<FlowResult> {
  const o = run.opts;
  const session: Session = { held, refreshTried: false, reauthorized: false, stepUps: 0, maxStepUps: o.maxStepUps ?? DEFAULT_MAX_STEP_UPS };
  const ops: Operation[] = [...(o.command !== 'call' ? ['tools-list' as const] : []), ...(o.call ? ['tools-call' as const] : [])];
  const result: { tools?: ToolSummary[]; callResult?: unknown } = {};
  let conn: McpConnection | undefined;
  let done = 0;
  try {
    for (;;) {
      let decided: NextAction | undefined;
      const onFail = (err: FlowError): StepData => describeNext((decided = decide(err, session)));
      try {
        conn ??= await connect(run, serverUrl, session.held, onFail);
        for (; done < ops.length; done++) await operate(run, conn, ops[done] as Operation, result, onFail);
        return result;
      } catch (err) {
        if (!(err instanceof AuthFailureError)) throw err;
        await conn?.close();
        conn = undefined;
        await recover(run, serverUrl, session, err, decided ?? decide(err, session));
      }
    }
  } finally {
    await conn?.close(true);
  }
}

/** The session step (cookie mode) and initialize. */
async function connect(run: FlowRun, serverUrl: string, held: Held, onFail: (err: FlowError) => StepData): Promise<McpConnection> {
  const o = run.opts;
  let mcpAuth: McpAuth = { kind: 'none' };
  if (held.origin !== 'none' && o.cookie) {
    const accessToken = held.tokens.access_token;
    const session = await run.step('session', async (ctx) => {
      const s = await openCookieSession(ctx, serverUrl, accessToken);
      const [name, value] = s.cookie.split('=');
      return [s, { cookie: `${name}=${redactToken(value ?? '')}`, origin: s.origin }];
    }, onFail);
    mcpAuth = { kind: 'cookie', cookie: session.cookie, origin: session.origin };
  } else if (held.origin !== 'none') {
    mcpAuth = { kind: 'bearer', accessToken: held.tokens.access_token };
  }
  // 2026-07-28 negotiation is a step of its own ('era'); the 2025 handshake stays 'initialize'.
  const era = effectiveEra(o.protocolEra ?? 'legacy', o.transport);
  return run.step(era === 'legacy' ? 'initialize' : 'era', async (ctx) => {
    const c = await connectMcp(ctx, run.fetch, serverUrl, o.transport, mcpAuth, era);
    const v = c.client.getServerVersion();
    const data = { server: v ? `${v.name} ${v.version}` : undefined, transport: o.transport, credentials: mcpAuth.kind };
    return [c, era === 'legacy' ? data : { ...data, requested: era, era: c.era, protocolVersion: c.protocolVersion }];
  }, onFail);
}

async function operate(
  run: FlowRun,
  conn: McpConnection,
  op: Operation,
  result: { tools?: ToolSummary[]; callResult?: unknown },
  onFail: (err: FlowError) => StepData,
): Promise<void> {
  if (op === 'tools-list') {
    result.tools = await run.step('tools-list', async (ctx) => {
      const r = await conn.run('tools/list', (cl) => cl.listTools());
      ctx.record({ name: 'tools listed', ok: true, detail: `${r.tools.length}` });
      const tools = r.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}) }));
      return [tools, { tools }];
    }, onFail);
    return;
  }
  const call = run.opts.call as NonNullable<typeof run.opts.call>;
  result.callResult = await run.step('tools-call', async (ctx) => {
    const r = await conn.run('tools/call', (cl) => cl.callTool({ name: call.tool, arguments: call.args }));
    const isError = r.isError === true;
    ctx.check('tool succeeded', !isError, isError ? toolText(r.content) : call.tool, 'the tool reported an error; see its message');
    return [r, { tool: call.tool, arguments: call.args, content: r.content, structuredContent: r.structuredContent }];
  }, onFail);
}

/** Carries out `action` for the refusal `err`; returns when the session should connect again, throws on give-up. */
async function recover(run: FlowRun, serverUrl: string, s: Session, err: AuthFailureError, action: NextAction): Promise<void> {
  const f = err.failure;
  const held = s.held;
  if (action.kind === 'give-up') throw giveUp(action.reason, f, s, err);
  if (action.kind === 'discovery') {
    const rejected = held.origin === 'warm' ? held.tokens : undefined;
    const start = { resourceMetadataUrl: f.challenge?.params.resource_metadata, challengeScope: splitScope(f.challenge?.params.scope) };
    const found = await discover(run, serverUrl, start, rejected);
    s.held = { origin: 'discovered', ...found };
    // Discovery led back to the very token the server refused: answer the refusal as for any token.
    if (rejected && found.tokens.access_token === rejected.access_token) await recover(run, serverUrl, s, err, decide(err, s));
    return;
  }
  if (held.origin !== 'discovered') throw new FlowError(`cannot ${action.kind} without discovery`, { cause: err });
  const { auth, tokens } = held;
  switch (action.kind) {
    case 'refresh': {
      s.refreshTried = true;
      const ifRefused = decide(err, s);
      const refreshed = await refresh(run, auth, tokens, describeNext(ifRefused).next ?? 'give-up');
      if (refreshed) s.held = { origin: 'discovered', auth, tokens: refreshed };
      else await recover(run, serverUrl, s, err, ifRefused);
      return;
    }
    case 'authorize': {
      s.reauthorized = true;
      const challenge = splitScope(f.challenge?.params.scope);
      const choice = tokens.requested_scope.length
        ? selectScopes({ previous: tokens.requested_scope, ...(challenge ? { challenge } : {}) })
        : initialScopes(run, auth, challenge);
      s.held = { origin: 'discovered', auth, tokens: await authorize(run, auth, choice) };
      return;
    }
    case 'step-up': {
      s.stepUps++;
      const previous = tokens.requested_scope;
      const challenge = splitScope(f.challenge?.params.scope) ?? [];
      const choice = selectScopes({ previous, challenge });
      await run.step('step-up', async (ctx) => {
        ctx.record({ name: 'insufficient_scope', ok: true, detail: f.challenge?.params.error_description ?? 'HTTP 403' });
        ctx.record({ name: 'union of previously requested and challenged scopes', ok: true, detail: choice.scopes.join(' ') });
        return [undefined, { attempt: s.stepUps, max: s.maxStepUps, previous_scope: previous.join(' '), challenge_scope: challenge.join(' '), scope: choice.scopes.join(' ') }];
      });
      s.held = { origin: 'discovered', auth, tokens: await authorize(run, auth, choice) };
      return;
    }
  }
}

function giveUp(reason: GiveUpReason, f: AuthFailure, s: Session, err: AuthFailureError): FlowError {
  switch (reason) {
    case 'not-an-authorization-failure':
    case 'forbidden':
      return err;
    case 'step-ups-exhausted':
      return new FlowError(`still insufficient_scope after ${s.maxStepUps} step-up authorizations`, {
        code: 'step-up-exhausted',
        step: 'step-up',
        hint: `the server wants "${f.challenge?.params.scope ?? '?'}"; the authorization server did not grant it to this user`,
      });
    case 'still-unauthorized':
      return new FlowError('the MCP server still answers 401 after a new authorization', {
        code: 'still-unauthorized',
        hint: 'the token the authorization server issues is not accepted by this server (audience, issuer or algorithm); run `mcp-lab-client logout` and check the server configuration',
      });
  }
}

function toolText(content: unknown): string {
  if (!Array.isArray(content)) return 'tool error';
  return content
    .map((c: { type?: string; text?: string }) => (c.type === 'text' ? c.text : `[${c.type}]`))
    .join(' ')
    .slice(0, 300);
}
