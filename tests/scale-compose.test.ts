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
import { freePort } from '@mcp-lab/test-kit/free-port';
import { requirePrereq } from '@mcp-lab/test-kit/prereq';
import { obtainToken } from '@mcp-lab/test-kit/tokens';
import { ComposeLab, onlyReplica, served, servedSince } from './scale-compose-lab.ts';
import { INITIALIZE, INITIALIZED, nextEvent, postMessage, responseTo, whoami, whoamiSub } from './scale-harness.ts';
import { openSse, type SseStream } from '@mcp-lab/test-kit/sse';
import { sdkClientTests } from './scale-compose-sdk.ts';
import { sessionTests } from './scale-compose-sessions.ts';
import { sessionLessLoad } from './scale-load.ts';
import { parseProxyStats, proxyDelta, waitForServer, type ProxyServer } from './scale-proxy-stats.ts';

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

/** The proxy's view of the replicas: its stats page (MCP_LAB_PROXY_STATS, inside the lab's network namespace). */
async function proxyServers(): Promise<ProxyServer[]> {
  const script = "fetch('http://127.0.0.1:3199/stats;csv').then((r) => r.text()).then((t) => process.stdout.write(t))";
  const r = await composeRun(['exec', '-T', 'lab-net', 'node', '-e', script]);
  if (r.code !== 0) throw new Error(`reading the proxy's stats failed: ${r.stderr}`);
  return parseProxyStats(r.stdout);
}

/** How the service's container last exited (`docker inspect` State.ExitCode), while it is stopped. */
async function exitCode(service: string): Promise<string> {
  const id = (await composeRun(['ps', '-a', '-q', service])).stdout.trim();
  return (await run('docker', ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id])).stdout.trim();
}

describe.runIf(ready)('docker/scale/compose.yml: three replicas behind HAProxy, Redis, the embedded IdP', () => {
  beforeAll(async () => {
    for (let attempt = 1; ; attempt++) {
      const [rsPort, idpPort] = [await freePort(), await freePort()];
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

  it('a rolling restart of the three replicas (docker stop, start) under modern-era load fails no request', async () => {
    const { access_token: token } = await obtainToken({ issuer: idpIssuer, resource: `${rsUrl}/mcp`, scope: 'notes:read', username: 'alice', password: 'alice-password' });
    const sub = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
    const before = await proxyServers();
    const restarts = (async () => {
      for (const name of ['rs1', 'rs2', 'rs3']) {
        // stop waits for the container to exit (stop_grace_period 20 s, longer than the drain).
        const stop = await composeRun(['stop', name]);
        expect(stop.code, stop.stderr).toBe(0);
        expect(await exitCode(name), `${name} did not drain and exit 0`).toBe('exited 0');
        const start = await composeRun(['start', name]);
        expect(start.code, start.stderr).toBe(0);
        await waitForServer(proxyServers, name, (status) => status === 'UP', 60_000, 250);
      }
    })();
    // Two loops, 40 ms apart: within the per-user rate limit (50/s on each replica) even on two replicas.
    const result = await sessionLessLoad(rsUrl, token, restarts, { sub, workers: 2, retries: 0, pauseMs: 40 });
    await restarts;
    const after = await proxyServers();
    expect(result.failures, `${result.sent} sent`).toEqual([]);
    expect(result.sent).toBeGreaterThan(100);
    // No replica answered a 5xx and the proxy re-sent nothing: the drain alone kept every request whole.
    expect(proxyDelta(before, after).map((d) => [d.responses5xx, d.retries])).toEqual([[0, 0], [0, 0], [0, 0]]);
  }, 300_000);

  it('killing one replica (docker kill) under modern-era load loses no request that is retried and ends only its streams', async () => {
    const { access_token: token } = await obtainToken({ issuer: idpIssuer, resource: `${rsUrl}/mcp`, scope: 'notes:read', username: 'alice', password: 'alice-password' });
    const sub = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
    const headers = { authorization: `Bearer ${token}` };
    // Three legacy SSE streams opened one after the other through the proxy (round-robin: one on each replica),
    // and only then initialized: opening and initializing one at a time takes three requests, which would put every
    // stream on the same replica. Which replica holds each is read from the replicas' request logs.
    const held = new Map<string, SseStream>();
    const holders: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const before = await served(lab, 'GET', '/sse');
        const stream = await openSse(`${rsUrl}/sse`, headers);
        const holder = onlyReplica(await servedSince(lab, before, 'GET', '/sse', 1));
        holders.push(holder);
        held.set(holder, stream);
      }
      expect(holders.toSorted(), 'the replicas holding the three streams').toEqual(['rs1', 'rs2', 'rs3']);
      for (const stream of held.values()) {
        expect((await postMessage(rsUrl, stream.endpoint, INITIALIZE, headers)).status).toBe(202);
        expect((await responseTo(stream, 1)).result?.serverInfo).toBeDefined();
        expect((await postMessage(rsUrl, stream.endpoint, INITIALIZED, headers)).status).toBe(202);
      }
      const killed = (async () => {
        await new Promise((r) => setTimeout(r, 500));
        const kill = await composeRun(['kill', 'rs2']);
        expect(kill.code, kill.stderr).toBe(0);
        await new Promise((r) => setTimeout(r, 2_500));
      })();
      const result = await sessionLessLoad(rsUrl, token, killed, { sub, workers: 2, retries: 2, pauseMs: 40 });
      await killed;
      expect(result.sent).toBeGreaterThan(50);
      expect(result.failures, `retried ${result.retried} of ${result.sent}`).toEqual([]);
      // rs2's stream is cut and unknown to every replica now; the others still answer, relayed to their holders.
      const victim = held.get('rs2')!;
      await expect(nextEvent(victim, 10_000)).rejects.toThrow(/ended|terminated/);
      expect((await postMessage(rsUrl, victim.endpoint, whoami(9), headers)).status).toBe(404);
      let id = 10;
      for (const [name, stream] of held) {
        if (name === 'rs2') continue;
        expect((await postMessage(rsUrl, stream.endpoint, whoami(++id), headers)).status, name).toBe(202);
        expect(whoamiSub(await responseTo(stream, id))).toBe(sub);
      }
    } finally {
      for (const stream of held.values()) stream.close();
    }
    // Back in for the tests after this one.
    const start = await composeRun(['start', 'rs2']);
    expect(start.code, start.stderr).toBe(0);
    await waitForServer(proxyServers, 'rs2', (status) => status === 'UP', 60_000, 250);
  }, 180_000);

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
