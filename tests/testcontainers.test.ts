/**
 * The Dex lab as testcontainers (GenericContainer on a shared Network), and the CLI run from the host against it:
 * Streamable HTTP, HTTP+SSE with a bearer and HTTP+SSE with the cookie session, each the whole sequence and a tool
 * call, and an RS started with the wrong audience refusing Dex's token with 401 invalid_token.
 *
 *   host CLI ──► 127.0.0.1:<asPort> ──► [AS pod: dex (holds the namespace) + authz-metadata 0.0.0.0:<asPort>]
 *            └─► 127.0.0.1:<rsPort> ──► [mcp-server :3000] ── MCP_JWKS_URL http://as:<asPort>/dex/keys ──┘
 *
 * The issuer problem: the issuer is in every token and must be one origin for the host-run CLI (which logs in and
 * fetches the token there) and for the RS (which compares `iss` with MCP_ISSUER). Host networking would make that
 * trivial but works on Linux engines only and shares the host's ports. Instead the AS origin is the same port
 * number on both sides: `asPort` is a free host port, published on 127.0.0.1 as asPort -> asPort, and
 * authz-metadata listens on it inside the AS pod (Dex's container holds the pod's network namespace; authz-metadata
 * joins it with network mode `container:<id>` and reaches Dex on the pod's 127.0.0.1:5558), so the issuer
 * http://127.0.0.1:<asPort>/dex is right from the host. The RS never needs that URL to be reachable from its own
 * container: it compares `iss` with MCP_ISSUER as a string and fetches the signing keys from the pod by its network
 * alias (MCP_JWKS_URL, as a production RS reaches its AS on an internal address). The RS listens on 3000 in its
 * container; its public URL is the published 127.0.0.1:<rsPort>. Ports are published on 127.0.0.1 only
 * (testcontainers alone would bind every address). A free port can be taken by another suite between the pick and
 * the start; the suite then starts over on new ports (at most three times).
 *
 * Waiting: the RS has an HTTP wait strategy on its own published port; authz-metadata, which owns no port of its
 * own (it lives in Dex's namespace), waits on a shell-less Docker healthcheck that fetches /dex/keys through the
 * proxy (200 only once Dex can sign), as in docker-compose.yml; Dex, whose image has no HTTP client, on its
 * "listening on" log line.
 *
 * The engine must be local (the CLI reaches the published ports on 127.0.0.1); TESTCONTAINERS_HOST_OVERRIDE defaults
 * to 127.0.0.1 accordingly. Images: test-kit/src/docker.ts. Ryuk (testcontainers' reaper) is pulled from Docker Hub, which is unreachable
 * where MCP_LAB_LOCAL_IMAGES is set; there, unless TESTCONTAINERS_RYUK_DISABLED says otherwise, this suite disables
 * it and removes every container and the network itself in afterAll, then checks that none is left.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChallenge, parseWwwAuthenticate } from '@mcp-lab/protocol';
import { DEX_DEFAULTS, renderDexConfig } from '../scripts/dex-config.ts';
import { renderDexMetadataDocument } from '../scripts/dex-metadata.ts';
import { loadProfile, profileRsEnv } from '@mcp-lab/launcher';
import { DEX_ALICE, DEX_SEQUENCE, runCliOnHost, toolText } from '@mcp-lab/test-kit/cli-run';
import { containersWithLabel, dockerStatus, labImages, OFFICIAL_APP_TAG, PORT_TAKEN, run } from '@mcp-lab/test-kit/docker';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { requirePrereq } from '@mcp-lab/test-kit/prereq';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const images = labImages();
const docker = dockerStatus(images);
const ready = requirePrereq('Docker (testcontainers)', docker.available, docker.available ? '' : docker.reason);
if (images.local && process.env.TESTCONTAINERS_RYUK_DISABLED === undefined) process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
// The ports are published on the engine host's 127.0.0.1, where the CLI reaches them; testcontainers would otherwise
// probe the bridge gateway whenever /.dockerenv exists (this suite runs inside a container here).
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';

/** Every container of this run carries it, so that afterAll can prove none is left. */
const RUN_LABEL = 'org.mcp-lab.test-run';
const runId = randomUUID();
const DEX_PORT = 5558;
const RS_PORT = 3000;

/** GenericContainer that can publish a port on 127.0.0.1 only. */
class LabContainer extends GenericContainer {
  withLoopbackPort(container: number, host: number): this {
    this.withExposedPorts({ container, host });
    this.hostConfig.PortBindings = {
      ...this.hostConfig.PortBindings,
      [`${container}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(host) }],
    };
    return this;
  }
}

interface Note {
  readonly text: string;
}

const started: StartedTestContainer[] = [];
let network: StartedNetwork | undefined;
let issuer: string;
let rsUrl: string;
let wrongAudienceUrl: string;

async function start(container: GenericContainer): Promise<StartedTestContainer> {
  const c = await container.withLabels({ [RUN_LABEL]: runId }).start();
  started.push(c);
  return c;
}

async function appImage(): Promise<string> {
  if (images.app !== undefined) return images.app;
  // The official route: docker/node-app.Dockerfile on node:22 (context filtered by the root .dockerignore).
  await GenericContainer.fromDockerfile(ROOT, 'docker/node-app.Dockerfile').build(OFFICIAL_APP_TAG, { deleteOnExit: false });
  return OFFICIAL_APP_TAG;
}

/** An RS container with the Dex profile, published on 127.0.0.1:`port`; `env` goes on top. */
async function startRs(app: string, asPort: number, port: number, env: Record<string, string> = {}): Promise<string> {
  const url = `http://127.0.0.1:${port}`;
  await start(
    new LabContainer(app)
      .withNetwork(network!)
      .withLoopbackPort(RS_PORT, port)
      .withCommand(['node', 'mcp-server/src/main.ts'])
      .withEnvironment({
        ...profileRsEnv(loadProfile('dex'), issuer, url),
        MCP_HOST: '0.0.0.0',
        MCP_PORT: String(RS_PORT),
        MCP_PUBLIC_URL: url,
        MCP_JWKS_URL: `http://as:${asPort}/dex/keys`,
        MCP_LOG_LEVEL: 'warn',
        ...env,
      })
      .withWaitStrategy(Wait.forHttp('/.well-known/oauth-protected-resource', RS_PORT))
      .withStartupTimeout(60_000),
  );
  return url;
}

/** Picks free ports and starts the AS pod and both RSes on them. */
async function startLab(app: string): Promise<void> {
  const [asPort, rsPort, wrongPort] = [await freePort(), await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${asPort}/dex`;

  const dex = await start(
    new LabContainer(images.dex)
      .withNetwork(network!)
      .withNetworkAliases('as')
      .withLoopbackPort(asPort, asPort)
      .withCopyContentToContainer([
        {
          content: renderDexConfig({ ...DEX_DEFAULTS, issuer, listen: `127.0.0.1:${DEX_PORT}`, allowedOrigins: [`http://127.0.0.1:${rsPort}`] }),
          target: '/etc/dex/config.yaml',
          mode: 0o644,
        },
      ])
      .withCommand(['dex', 'serve', '/etc/dex/config.yaml'])
      .withWaitStrategy(Wait.forLogMessage(/"msg":"listening on","server":"http"/))
      .withStartupTimeout(60_000),
  );
  await start(
    new GenericContainer(app)
      .withNetworkMode(`container:${dex.getId()}`)
      .withCommand(['node', 'authz-metadata/src/main.ts'])
      .withCopyContentToContainer([{ content: renderDexMetadataDocument(issuer), target: '/tmp/dex-metadata.json', mode: 0o644 }])
      .withEnvironment({
        AUTHZ_METADATA_HOST: '0.0.0.0',
        AUTHZ_METADATA_PORT: String(asPort),
        AUTHZ_METADATA_UPSTREAM: `http://127.0.0.1:${DEX_PORT}`,
        AUTHZ_METADATA_ISSUER: issuer,
        AUTHZ_METADATA_DOCUMENT: '/tmp/dex-metadata.json',
        AUTHZ_METADATA_LOG_LEVEL: 'warn',
      })
      .withHealthCheck({
        test: [
          'CMD', 'node', '-e',
          `fetch('http://127.0.0.1:${asPort}/dex/keys').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: 1000,
        timeout: 5000,
        retries: 60,
      })
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(90_000),
  );
  // allSettled: when one fails, the other is still registered in `started` before afterAll cleans up.
  const rs = await Promise.allSettled([
    startRs(app, asPort, rsPort),
    startRs(app, asPort, wrongPort, { MCP_AUDIENCE: 'something-else' }),
  ]);
  const failed = rs.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  [rsUrl, wrongAudienceUrl] = rs.map((r) => (r as PromiseFulfilledResult<string>).value) as [string, string];
}

/** Stops what was started, removes whatever a failed start left (same run label), and says what went wrong. */
async function removeContainers(): Promise<string[]> {
  const problems: string[] = [];
  for (const c of started.splice(0).reverse()) {
    await c.stop({ timeout: 5_000 }).catch((err: unknown) => problems.push(`stop ${c.getId()}: ${String(err)}`));
  }
  const leftovers = await containersWithLabel(RUN_LABEL, runId);
  if (leftovers.length > 0) {
    const rm = await run('docker', ['rm', '-f', '-v', ...leftovers]);
    if (rm.code !== 0) problems.push(`docker rm ${leftovers.join(' ')}: ${rm.stderr}`);
  }
  return problems;
}

describe.runIf(ready)('the Dex lab as testcontainers, the CLI on the host', () => {
  beforeAll(async () => {
    const app = await appImage();
    network = await new Network().start();
    // A free port can be taken by another suite between the pick and the publish: then pick again.
    for (let attempt = 1; ; attempt++) {
      try {
        await startLab(app);
        return;
      } catch (err) {
        if (attempt >= 3 || !PORT_TAKEN.test((err as Error).message)) throw err;
        const problems = await removeContainers();
        if (problems.length > 0) throw new Error(problems.join('\n'), { cause: err });
      }
    }
  }, 600_000);

  afterAll(async () => {
    // Ryuk may be off: nothing else removes these. Remove them all even when one fails, then check none is left.
    const problems = await removeContainers();
    await network?.stop().catch((err: unknown) => problems.push(`network: ${String(err)}`));
    const left = await containersWithLabel(RUN_LABEL, runId);
    if (left.length > 0) problems.push(`containers left behind: ${left.join(' ')}`);
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }, 120_000);

  containerTransportTests();
});

function containerTransportTests(): void {
  it('Streamable HTTP: the whole sequence against the containers, then notes_add', async () => {
    const r = await runCliOnHost(['connect', `${rsUrl}/mcp`, ...DEX_ALICE, '--call', 'notes_add', '--args', '{"text":"over streamable http"}']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.steps).toEqual(DEX_SEQUENCE);
    expect(r.events.find((e) => e.step === 'token')?.http[0]).toMatchObject({ url: `${issuer}/token`, status: 200 });
    expect(JSON.parse(toolText(r))).toMatchObject({ text: 'over streamable http' });
  }, 60_000);

  it('HTTP+SSE with the bearer token: the whole sequence, then notes_add', async () => {
    const r = await runCliOnHost([
      'connect', `${rsUrl}/sse`, '--transport', 'sse', ...DEX_ALICE, '--call', 'notes_add', '--args', '{"text":"over sse"}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.steps).toEqual(DEX_SEQUENCE);
    const init = r.events.find((e) => e.step === 'initialize');
    expect(init?.http[0]).toMatchObject({ method: 'GET', url: `${rsUrl}/sse`, status: 200 });
    expect(init?.http[0]?.headers.authorization).toMatch(/^Bearer /);
    expect(JSON.parse(toolText(r))).toMatchObject({ text: 'over sse' });
  }, 60_000);

  it('HTTP+SSE with the session cookie: POST /session with the bearer, then cookie-only requests and notes_add', async () => {
    const r = await runCliOnHost([
      'connect', `${rsUrl}/sse`, '--transport', 'sse', '--cookie', ...DEX_ALICE, '--call', 'notes_add', '--args', '{"text":"over sse with a cookie"}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.steps).toEqual([...DEX_SEQUENCE.slice(0, 7), 'session', ...DEX_SEQUENCE.slice(7)]);
    expect(r.events.find((e) => e.step === 'session')?.http[0]).toMatchObject({ method: 'POST', url: `${rsUrl}/session`, status: 204 });
    const mcpRequests = r.events.filter((e) => ['initialize', 'tools-list', 'tools-call'].includes(e.step)).flatMap((e) => e.http);
    expect(mcpRequests.length).toBeGreaterThan(0);
    for (const h of mcpRequests) {
      expect(h.headers.authorization).toBeUndefined();
      expect(h.headers.cookie).toMatch(/^mcp_lab_session=/);
    }
    expect(JSON.parse(toolText(r))).toMatchObject({ text: 'over sse with a cookie' });
  }, 60_000);

  it('all three transports reached the same RS as the same user', async () => {
    const r = await runCliOnHost(['connect', `${rsUrl}/mcp`, ...DEX_ALICE, '--call', 'notes_list']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(toolText(r)) as Note[]).map((n) => n.text)).toEqual(['over streamable http', 'over sse', 'over sse with a cookie']);
  }, 60_000);

  it('an RS container started with MCP_AUDIENCE=something-else refuses the Dex token with 401 invalid_token', async () => {
    const r = await runCliOnHost(['connect', `${wrongAudienceUrl}/mcp`, ...DEX_ALICE, '--call', 'notes_list']);
    expect(r.code).not.toBe(0);
    // Discovery and the login succeed; the first request with the token is refused.
    expect(r.steps.slice(0, 7)).toEqual(DEX_SEQUENCE.slice(0, 7));
    const failed = r.events.find((e) => e.status === 'fail');
    const refused = failed?.http.find((h) => h.status === 401 && h.headers.authorization !== undefined);
    expect(refused, JSON.stringify(failed)).toBeDefined();
    const challenge = findChallenge(parseWwwAuthenticate(refused!.headers['www-authenticate'] ?? ''), 'Bearer');
    expect(challenge?.params.error).toBe('invalid_token');
    expect(challenge?.params.resource_metadata).toBe(`${wrongAudienceUrl}/.well-known/oauth-protected-resource/mcp`);
    expect(r.events.some((e) => e.step === 'tools-call' && e.status === 'ok')).toBe(false);
  }, 60_000);
}
