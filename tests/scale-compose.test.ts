/**
 * docker/scale/compose.yml as a user runs it: HAProxy, three RS replicas on Redis, the embedded IdP and the CLI
 * once, on free host ports, with ONE `compose up` for the file. The CLI completes the whole flow through the proxy in
 * every era (in a container over 2025 Streamable HTTP, from the host over legacy HTTP+SSE and over the 2026-07-28
 * stateless wire), and a note written through one replica is read through whichever answers next (one notes
 * database). From the host through the proxy, the official SDK clients sign in by themselves and call tools, a cookie
 * session works on every replica and its logout ends it on all, closed SSE streams are freed, and bob is refused
 * alice's sessions by every replica (scale-compose-sdk.ts, scale-compose-sessions.ts; which replica answered is read
 * from the replicas' request logs, scale-compose-lab.ts). A rolling restart of the replicas (each drains on
 * `docker stop`) under load fails no request; killing one (`docker kill`) under load loses no request that is retried
 * and ends only the streams it held; and with one replica stopped the proxy routes around it.
 * Images: mcp-lab/app:local (scripts/build-local-images.sh, MCP_LAB_LOCAL_IMAGES=1) and mcp-lab/haproxy:2.6 +
 * mcp-lab/redis:7 (docker/scale/build-images.sh).
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliOnHost, toolText } from '@mcp-lab/test-kit/cli-run';
import { composeCommand, dockerStatus, labImages, PORT_TAKEN, run, type CommandResult } from '@mcp-lab/test-kit/docker';
import { freePorts } from '@mcp-lab/test-kit/free-port';
import { requirePrereq } from '@mcp-lab/test-kit/prereq';
import { ComposeLab } from './scale-compose-lab.ts';
import { replicaLossTests } from './scale-compose-replicas.ts';
import { sdkClientTests } from './scale-compose-sdk.ts';
import { sessionTests } from './scale-compose-sessions.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'docker/scale/compose.yml');
const SCALE_IMAGES = ['mcp-lab/haproxy:2.6', 'mcp-lab/redis:7'];

const images = labImages();
const docker = dockerStatus(images);
const compose = docker.available ? composeCommand() : undefined;
const missing = docker.available
  ? (await Promise.all(SCALE_IMAGES.map(async (i) => ((await run('docker', ['image', 'inspect', i])).code === 0 ? undefined : i)))).filter(Boolean)
  : [];
const ready = requirePrereq(
  'Docker Compose (scale profile)',
  docker.available && compose !== undefined && images.app !== undefined && missing.length === 0,
  !docker.available
    ? docker.reason
    : compose === undefined
      ? 'neither docker-compose nor `docker compose` runs'
      : images.app === undefined
        ? 'the scale profile runs the local app image: set MCP_LAB_LOCAL_IMAGES=1 after scripts/build-local-images.sh'
        : `missing ${missing.join(', ')} (bash docker/scale/build-images.sh)`,
);

const project = `mcplabscale${process.pid}${Math.random().toString(36).slice(2, 8)}`;
let env: NodeJS.ProcessEnv;
let rsUrl: string;
let idpIssuer: string;

function composeRun(args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  const [cmd, ...pre] = compose!;
  return run(cmd!, [...pre, '-p', project, '-f', COMPOSE_FILE, ...args], { env, cwd: ROOT, ...(timeoutMs ? { timeoutMs } : {}) });
}

/** What the blocks in scale-compose-sdk.ts and scale-compose-sessions.ts see of the stack. */
const lab = new ComposeLab(composeRun);

async function logs(): Promise<string> {
  const r = await composeRun(['logs', '--no-color']);
  return `--- compose logs ---\n${r.stdout.slice(-20_000)}${r.stderr.slice(-4_000)}`;
}

async function clientState(): Promise<{ status: string; exitCode: string }> {
  const id = (await composeRun(['ps', '-a', '-q', 'mcp-client'])).stdout.trim();
  const [status = '', exitCode = ''] = (await run('docker', ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id])).stdout.trim().split(' ');
  return { status, exitCode };
}

const LOGIN = ['--login', 'alice:alice-password', '--login-driver', 'embedded'];

describe.runIf(ready)('docker/scale/compose.yml: three replicas behind HAProxy, Redis, the embedded IdP', () => {
  beforeAll(async () => {
    for (let attempt = 1; ; attempt++) {
      const [rsPort, idpPort] = (await freePorts(2)) as [number, number];
      rsUrl = `http://127.0.0.1:${rsPort}`;
      idpIssuer = `http://127.0.0.1:${idpPort}`;
      // Log level info: the replicas log every request, which is how the tests tell which replica answered.
      env = { ...process.env, MCP_LAB_RS_PORT: String(rsPort), MCP_LAB_IDP_PORT: String(idpPort), MCP_LAB_LOG_LEVEL: 'info', APP_IMAGE: images.app };
      const up = await composeRun(['up', '-d'], 600_000);
      if (up.code === 0) {
        lab.rsUrl = rsUrl;
        lab.idpIssuer = idpIssuer;
        break;
      }
      await composeRun(['down', '-v', '--remove-orphans']);
      if (attempt < 3 && PORT_TAKEN.test(up.stderr)) continue;
      throw new Error(`compose up failed (${up.code}):\n${up.stderr}\n${await logs()}`);
    }
  });
  afterAll(async () => {
    if (compose !== undefined && env !== undefined) await composeRun(['down', '-v', '--remove-orphans']);
  });

  it('the CLI service completes the flow through the proxy over Streamable HTTP (login, step-up, notes_add)', async () => {
    let state = await clientState();
    for (let i = 0; i < 240 && state.status !== 'exited'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      state = await clientState();
    }
    expect(state, await logs()).toEqual({ status: 'exited', exitCode: '0' });
    const out = (await composeRun(['logs', '--no-color', 'mcp-client'])).stdout;
    expect(out).toContain('"step":"tools-call","status":"ok"');
    expect(out).toContain('hello through the proxy');
  });

  it('the CLI on the host completes the flow over legacy HTTP+SSE through the proxy and reads the note back', async () => {
    const sse = await runCliOnHost(['connect', `${rsUrl}/sse`, '--transport', 'sse', ...LOGIN, '--scope', 'notes:read', '--call', 'notes_list']);
    expect(sse.code, `${sse.stdout}\n${sse.stderr}`).toBe(0);
    expect(sse.steps).toContain('tools-call');
    expect(toolText(sse)).toContain('hello through the proxy');
  });

  it('the CLI on the host completes the 2026-07-28 stateless flow (v2 SDK) through the proxy', async () => {
    const modern = await runCliOnHost(['connect', `${rsUrl}/mcp`, '--protocol-era', 'modern', ...LOGIN, '--scope', 'notes:read', '--call', 'notes_list']);
    expect(modern.code, `${modern.stdout}\n${modern.stderr}`).toBe(0);
    expect(modern.steps).toContain('tools-call');
    expect(modern.stdout).toContain('"era":"modern"');
    expect(toolText(modern)).toContain('hello through the proxy');
  });

  sdkClientTests(lab);
  sessionTests(lab);

  replicaLossTests(lab);

  it('with one replica stopped the proxy routes around it and new sessions still complete', async () => {
    const stop = await composeRun(['stop', 'rs1']);
    expect(stop.code, stop.stderr).toBe(0);
    for (let i = 0; i < 3; i++) {
      const again = await runCliOnHost(['connect', `${rsUrl}/mcp`, ...LOGIN, '--scope', 'notes:read', '--call', 'whoami']);
      expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
      expect(JSON.parse(toolText(again)).sub).toBeTruthy();
    }
  });
});
