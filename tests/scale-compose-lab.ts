/**
 * What the blocks of tests/scale-compose.test.ts share: where the compose stack's proxy and IdP answer from the
 * host, its compose command, and which replica answered a request — read from each replica's own request log
 * (pino's `incoming request` lines, MCP_LAB_LOG_LEVEL=info), as tests/scale-proxy.test.ts reads its replicas'.
 */
import { expect, vi } from 'vitest';
import { run, type CommandResult } from '@mcp-lab/test-kit/docker';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { HeadlessOAuthProvider } from '@mcp-lab/test-kit/sdk-oauth-provider';

/** The replicas' service names in docker/scale/compose.yml. */
export const REPLICAS = ['rs1', 'rs2', 'rs3'] as const;

export type Compose = (args: readonly string[], timeoutMs?: number) => Promise<CommandResult>;

/** The running stack as the host sees it; `rsUrl` is the proxy's published port. Filled in once it is up. */
export class ComposeLab {
  rsUrl = '';
  idpIssuer = '';
  readonly compose: Compose;
  readonly #ids = new Map<string, string>();

  constructor(compose: Compose) {
    this.compose = compose;
  }

  /** Everything `service` has written so far (its container's log, read with `docker logs`). */
  async output(service: string): Promise<string> {
    let id = this.#ids.get(service);
    if (id === undefined) {
      id = (await this.compose(['ps', '-q', service])).stdout.trim();
      if (id === '') throw new Error(`no container for ${service}`);
      this.#ids.set(service, id);
    }
    const r = await run('docker', ['logs', id]);
    return `${r.stdout}\n${r.stderr}`;
  }
}

/** How many `method path` requests each replica has logged, in REPLICAS order. */
export async function served(lab: ComposeLab, method: string, path: string): Promise<number[]> {
  const outputs = await Promise.all(REPLICAS.map((s) => lab.output(s)));
  return outputs.map(
    (out) =>
      out
        .split('\n')
        .filter((line) => line.includes('"msg":"incoming request"') && line.includes(`"method":"${method}"`) && line.includes(`"path":"${path}"`)).length,
  );
}

/**
 * The `method path` requests each replica logged since `before`, once at least `atLeast` have arrived in all: the
 * log reaches `docker logs` a little after the HTTP answer, more so on a loaded machine.
 */
export async function servedSince(lab: ComposeLab, before: readonly number[], method: string, path: string, atLeast: number): Promise<number[]> {
  let delta: number[] = [];
  await vi.waitFor(
    async () => {
      delta = (await served(lab, method, path)).map((n, i) => n - before[i]!);
      expect(delta.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(atLeast);
    },
    { timeout: 15_000, interval: 200 },
  );
  return delta;
}

/** The replica that logged every request of `delta` (fails when more than one did). */
export function onlyReplica(delta: readonly number[]): string {
  expect(delta.filter((n) => n > 0), `requests per replica: ${delta.join(', ')}`).toHaveLength(1);
  return REPLICAS[delta.findIndex((n) => n > 0)]!;
}

/**
 * An application's OAuth side for the official SDK clients (either major): `user` signs in at the compose IdP with
 * the lab client's headless driver, and the SDK registers itself (RFC 7591) and chooses scope and resource.
 */
export async function sdkProvider(user: { readonly username: string; readonly password: string }): Promise<HeadlessOAuthProvider> {
  return new HeadlessOAuthProvider({
    redirectUrl: `http://127.0.0.1:${await freePort()}/callback`,
    username: user.username,
    password: user.password,
    driver: 'embedded',
    clientMetadata: { client_name: 'mcp-lab scale compose', application_type: 'native' },
  });
}

/** Waits until the proxy answers again (after `compose restart proxy`). */
export async function proxyAnswers(lab: ComposeLab): Promise<void> {
  await vi.waitFor(
    async () => {
      const res = await fetch(`${lab.rsUrl}/.well-known/oauth-protected-resource`);
      expect(res.status).toBe(200);
      await res.body?.cancel();
    },
    { timeout: 30_000, interval: 250 },
  );
}
