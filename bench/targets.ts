import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '@mcp-lab/test-kit/free-port';
import type { BenchIssuer } from './jwt.ts';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { BENCH_SUBJECT, MODERN_HEADERS, MODERN_TOOLS_CALL_BODY, openSession, STREAMABLE_ACCEPT } from './mcp.ts';
import { startChild, type ChildServer } from './proc.ts';

/**
 * The targets the throughput scenario compares: the ceiling (a), the SDK peer (b), and the lab RS in both eras —
 * a 2025 session (c, f) and stateless 2026-07-28 requests (d, e), with one token or a new token per request.
 */
export type TargetKey = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';
export const TARGET_KEYS: readonly TargetKey[] = ['a', 'b', 'c', 'd', 'e', 'f'];

export interface RunningTarget {
  readonly key: TargetKey;
  readonly label: string;
  readonly server: ChildServer;
  /** Where tools/call is POSTed. */
  readonly mcpUrl: string;
  /** Headers of every tools/call (bearer, Accept, and for (c) the session). */
  readonly headers: Readonly<Record<string, string>>;
  /** The tools/call body (default: the 2025 one, TOOLS_CALL_BODY). */
  readonly body?: string;
  /** Tokens to rotate through, one per request (e, f); absent: the one token in `headers`. */
  readonly tokenPool?: readonly string[];
}

export interface TargetContext {
  readonly issuer: BenchIssuer;
  /** Extra Node flags for the server process (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Level of the RS's pino logger; the bench servers do not log. */
  readonly rsLogLevel: string;
  /** Distinct tokens for the per-request-token targets (e, f); more than the RS's cache holds. */
  readonly tokenPoolSize?: number;
  /** More RS variables (e.g. limits), over rsEnv's. */
  readonly extraRsEnv?: Readonly<Record<string, string>>;
}

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const RS_MAIN = fileURLToPath(new URL('../mcp-server/src/main.ts', import.meta.url));
export const IDP_MAIN = fileURLToPath(new URL('../embedded-idp/src/main.ts', import.meta.url));
export const CLI_BIN = fileURLToPath(new URL('../mcp-client/bin.mjs', import.meta.url));
const SERVERS_DIR = new URL('./servers/', import.meta.url);

export const TARGET_LABELS: Readonly<Record<TargetKey, string>> = {
  a: 'a bare Fastify (ceiling)',
  b: 'b SDK Express peer',
  c: 'c lab RS, 2025 session',
  d: 'd lab RS, 2026-07-28 stateless',
  e: 'e lab RS, 2026-07-28, new token per request',
  f: 'f lab RS, 2025 session, new token per request',
};

/** Default size of the token pool: above the RS's default verified-token cache (10,000, oldest evicted first). */
export const DEFAULT_TOKEN_POOL = 12_000;

/** True when the resource server's entry point exists (it is written by another engineer). */
export function rsAvailable(): boolean {
  return existsSync(RS_MAIN);
}

const SCOPE = 'notes:read notes:write';

/** Starts one target as a child process and prepares the headers of its tools/call requests. */
export async function startTarget(key: TargetKey, ctx: TargetContext): Promise<RunningTarget> {
  switch (key) {
    case 'a':
      return startBare(ctx);
    case 'b':
      return startPeer(ctx);
    case 'c':
      return startRs(ctx, 'c');
    case 'd':
      return startModernRs(ctx, 'd');
    case 'e':
      return startModernRs(ctx, 'e');
    case 'f':
      return startRs(ctx, 'f');
  }
}

/** Distinct tokens of the bench subject (each with its own `exp`, so each is another string to verify). */
async function tokenPool(ctx: TargetContext, origin: string): Promise<string[]> {
  const size = ctx.tokenPoolSize ?? DEFAULT_TOKEN_POOL;
  const tokens: string[] = [];
  for (let i = 0; i < size; i++) {
    tokens.push(await ctx.issuer.mint({ audience: `${origin}/mcp`, scope: SCOPE, subject: BENCH_SUBJECT, ttlS: 3600 + i }));
  }
  return tokens;
}

/** The lab RS serving stateless 2026-07-28 requests: no session, every request verifies its own token. */
async function startModernRs(ctx: TargetContext, key: 'd' | 'e'): Promise<RunningTarget> {
  const { server, origin } = await startRsProcess({ ...ctx, extraRsEnv: { ...BENCH_UNLIMITED_RS_ENV, ...ctx.extraRsEnv } });
  try {
    const token = await rsToken(ctx.issuer, origin);
    const headers = { ...streamableHeaders(token), ...MODERN_HEADERS };
    const pool = key === 'e' ? { tokenPool: await tokenPool(ctx, origin) } : {};
    return { key, label: TARGET_LABELS[key], server, mcpUrl: `${origin}/mcp`, headers, body: MODERN_TOOLS_CALL_BODY, ...pool };
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message}\n--- lab-rs output ---\n${server.output()}`, { cause: err });
  }
}

async function startBare(ctx: TargetContext): Promise<RunningTarget> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = await startChild({
    name: 'bare-fastify',
    script: fileURLToPath(new URL('bare-fastify.ts', SERVERS_DIR)),
    nodeArgs: ctx.nodeArgs ?? [],
    env: { BENCH_PORT: String(port) },
    readyUrl: `${origin}/health`,
  });
  // Same headers as the others (a token included) so that request size and parsing are alike.
  const token = await ctx.issuer.mint({ audience: `${origin}/mcp`, scope: SCOPE, subject: BENCH_SUBJECT });
  return { key: 'a', label: TARGET_LABELS.a, server, mcpUrl: `${origin}/mcp`, headers: streamableHeaders(token) };
}

async function startPeer(ctx: TargetContext): Promise<RunningTarget> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const audience = `${origin}/mcp`;
  const server = await startChild({
    name: 'sdk-express-peer',
    script: fileURLToPath(new URL('sdk-express-peer.ts', SERVERS_DIR)),
    nodeArgs: ctx.nodeArgs ?? [],
    env: {
      BENCH_PORT: String(port),
      BENCH_ISSUER: ctx.issuer.issuer,
      BENCH_JWKS_URL: ctx.issuer.jwksUrl,
      BENCH_AUDIENCE: audience,
    },
    readyUrl: `${origin}/health`,
  });
  const token = await ctx.issuer.mint({ audience, scope: SCOPE, subject: BENCH_SUBJECT });
  return { key: 'b', label: TARGET_LABELS.b, server, mcpUrl: audience, headers: streamableHeaders(token) };
}

/**
 * Environment of the lab RS (see the RS's loadConfig). With `jwksUrl` unset the RS discovers it from the issuer's
 * metadata, as in a real deployment.
 */
export function rsEnv(port: number, issuer: string, jwksUrl: string | undefined, logLevel: string): Record<string, string> {
  return {
    MCP_PUBLIC_URL: `http://127.0.0.1:${port}`,
    MCP_HOST: '127.0.0.1',
    MCP_PORT: String(port),
    MCP_ISSUER: issuer,
    ...(jwksUrl === undefined ? {} : { MCP_JWKS_URL: jwksUrl }),
    MCP_DB_PATH: ':memory:',
    MCP_LOG_LEVEL: logLevel,
  };
}

/**
 * RS limits lifted for the load scenarios, which drive one subject as hard as they can on purpose (throughput,
 * thousands of SSE streams); the reliability scenario runs the RS with its defaults instead.
 */
export const BENCH_UNLIMITED_RS_ENV: Readonly<Record<string, string>> = Object.freeze({
  MCP_RATE_LIMIT_PER_S: '1000000',
  MCP_RATE_LIMIT_BURST: '1000000',
  MCP_SSE_STREAMS_MAX_PER_SUBJECT: '10000',
  MCP_SESSIONS_MAX_PER_SUBJECT: '10000',
});

/** Starts `node mcp-server/src/main.ts` against the bench issuer. */
export async function startRsProcess(ctx: TargetContext): Promise<{ server: ChildServer; origin: string }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = await startChild({
    name: 'lab-rs',
    script: RS_MAIN,
    nodeArgs: ctx.nodeArgs ?? [],
    env: { ...rsEnv(port, ctx.issuer.issuer, ctx.issuer.jwksUrl, ctx.rsLogLevel), ...ctx.extraRsEnv },
    readyUrl: `${origin}/.well-known/oauth-protected-resource`,
  });
  return { server, origin };
}

/** A bearer token the lab RS accepts: aud = its /mcp resource identifier (RFC 8707). */
export function rsToken(issuer: BenchIssuer, origin: string, resourcePath: '/mcp' | '/sse' = '/mcp'): Promise<string> {
  return issuer.mint({ audience: `${origin}${resourcePath}`, scope: SCOPE, subject: BENCH_SUBJECT });
}

async function startRs(ctx: TargetContext, key: 'c' | 'f'): Promise<RunningTarget> {
  const { server, origin } = await startRsProcess({ ...ctx, extraRsEnv: { ...BENCH_UNLIMITED_RS_ENV, ...ctx.extraRsEnv } });
  try {
    const token = await rsToken(ctx.issuer, origin);
    // Stateful Streamable HTTP: one session, then every tools/call of the load runs in it (f: each with a new
    // token of the session's owner, as a client refreshing its token mid-session would send).
    const session = await openSession(`${origin}/mcp`, token);
    const pool = key === 'f' ? { tokenPool: await tokenPool(ctx, origin) } : {};
    return { key, label: TARGET_LABELS[key], server, mcpUrl: `${origin}/mcp`, headers: session.headers, ...pool };
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message}\n--- lab-rs output ---\n${server.output()}`, { cause: err });
  }
}

function streamableHeaders(token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    accept: STREAMABLE_ACCEPT,
    'content-type': 'application/json',
    'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
  };
}
