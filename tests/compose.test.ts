/**
 * The top-level docker-compose.yml, run as a user runs it: `up -d` of the whole Dex lab (lab-net, dex,
 * authz-metadata, mcp-server, and the one-shot mcp-client), the client service again with `run --rm`, the CLI from
 * the host against the published ports, then `down -v` and nothing of the project left.
 *
 * Ports: the compose file publishes host port = container port (one shared network namespace, so that the issuer
 * http://127.0.0.1:<port>/dex means the same origin inside and outside). Tests never take fixed ports, so this one
 * picks two free ones and renders Dex's configuration and authz-metadata's RFC 8414 document for that issuer with
 * the launcher's own renderers, passed in through MCP_LAB_DEX_CONFIG and MCP_LAB_AS_DOCUMENT, as the compose file
 * documents. Images: see test-kit/src/docker.ts (MCP_LAB_LOCAL_IMAGES=1 where no registry is reachable).
 * The compose command is `docker-compose` (1.29) or `docker compose` (v2); MCP_LAB_COMPOSE picks one.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthorizationServerMetadata, parseProtectedResourceMetadata } from '@mcp-lab/protocol';
import { DEX_DEFAULTS, renderDexConfig } from '../scripts/dex-config.ts';
import { renderDexMetadataDocument } from '../scripts/dex-metadata.ts';
import { cliRun, DEX_ALICE, DEX_SEQUENCE, runCliOnHost, toolText, type CliRun } from '@mcp-lab/test-kit/cli-run';
import { composeCommand, containersWithLabel, dockerStatus, labImages, PORT_TAKEN, run, type CommandResult } from '@mcp-lab/test-kit/docker';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { requirePrereq } from '@mcp-lab/test-kit/prereq';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const PROJECT_LABEL = 'com.docker.compose.project';

const images = labImages();
const docker = dockerStatus(images);
const compose = docker.available ? composeCommand() : undefined;
const ready = requirePrereq(
  'Docker Compose',
  docker.available && compose !== undefined,
  docker.available ? 'neither docker-compose nor `docker compose` runs (bash scripts/ensure-docker.sh installs it)' : docker.reason,
);

/** A project name of its own, so that parallel runs and a developer's `mcp-lab` project never meet. */
const project = `mcplabtest${process.pid}${Math.random().toString(36).slice(2, 8)}`;

interface Note {
  readonly id: string;
  readonly text: string;
}

let dir: string;
let env: NodeJS.ProcessEnv;
let issuer: string;
let rsUrl: string;
let down: CommandResult | undefined;

function composeRun(args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  const [cmd, ...pre] = compose!;
  return run(cmd!, [...pre, '-p', project, '-f', COMPOSE_FILE, ...args], { env, cwd: ROOT, ...(timeoutMs ? { timeoutMs } : {}) });
}

async function logs(): Promise<string> {
  const r = await composeRun(['logs', '--no-color']);
  return `--- compose logs ---\n${r.stdout}${r.stderr}`;
}

async function containerOf(service: string): Promise<string> {
  // -a: a one-shot service's container has exited (compose v2 lists running ones only without it).
  const r = await composeRun(['ps', '-a', '-q', service]);
  const id = r.stdout.trim();
  if (r.code !== 0 || id === '') throw new Error(`no container for ${service}: ${r.stderr}`);
  return id;
}

async function inspect(service: string, format: string): Promise<string> {
  return (await run('docker', ['inspect', '-f', format, await containerOf(service)])).stdout.trim();
}

/** Inspects `service`'s container until `done` accepts the value of `format` (bounded); returns the last value. */
async function waitFor(service: string, format: string, done: (v: string) => boolean): Promise<string> {
  let value = '';
  for (let i = 0; i < 240; i++) {
    value = await inspect(service, format);
    if (done(value)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return value;
}

/** Picks free ports and renders Dex's configuration and the RFC 8414 document for the issuer on them. */
async function configure(): Promise<void> {
  const [asPort, rsPort] = [await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${asPort}/dex`;
  rsUrl = `http://127.0.0.1:${rsPort}`;
  const dexConfig = join(dir, 'dex.yaml');
  const asDocument = join(dir, 'dex-metadata.json');
  await writeFile(dexConfig, renderDexConfig({ ...DEX_DEFAULTS, issuer, allowedOrigins: [rsUrl] }), { mode: 0o644 });
  await writeFile(asDocument, renderDexMetadataDocument(issuer), { mode: 0o644 });
  env = {
    ...process.env,
    MCP_LAB_AS_PORT: String(asPort),
    MCP_LAB_RS_PORT: String(rsPort),
    MCP_LAB_DEX_CONFIG: dexConfig,
    MCP_LAB_AS_DOCUMENT: asDocument,
    DEX_IMAGE: images.dex,
    ...(images.app === undefined ? {} : { APP_IMAGE: images.app }),
  };
}

describe.runIf(ready)('docker-compose.yml: the Dex lab in containers', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-lab-compose-'));
    // Read inside the containers by uid 1001 (Dex) and 10001 (authz-metadata).
    await chmod(dir, 0o755);
    // A free port can be taken by another suite between the pick and the publish (seconds here): then pick again.
    for (let attempt = 1; ; attempt++) {
      await configure();
      // Builds the app image first where it is missing (the official route), hence the long bound.
      const up = await composeRun(['up', '-d'], 900_000);
      if (up.code === 0) break;
      if (attempt < 3 && PORT_TAKEN.test(up.stderr)) {
        await composeRun(['down', '-v', '--remove-orphans']);
        continue;
      }
      throw new Error(`compose up failed (${up.code}):\n${up.stderr}\n${await logs()}`);
    }
  });

  afterAll(async () => {
    if (compose !== undefined && down === undefined) await composeRun(['down', '-v', '--remove-orphans']);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  composeLabTests();
});

function composeLabTests(): void {
  it('turns authz-metadata (and through it Dex) and mcp-server healthy with their shell-less healthchecks', async () => {
    for (const service of ['authz-metadata', 'mcp-server']) {
      const health = await waitFor(service, '{{.State.Health.Status}}', (v) => v === 'healthy' || v === 'unhealthy');
      expect(health, `${service}\n${await logs()}`).toBe('healthy');
    }
  });

  it('publishes the lab only on 127.0.0.1, with host port = container port', async () => {
    const bindings = JSON.parse(await inspect('lab-net', '{{json .HostConfig.PortBindings}}')) as Record<
      string,
      { HostIp: string; HostPort: string }[]
    >;
    const { MCP_LAB_AS_PORT: as, MCP_LAB_RS_PORT: rs } = env;
    expect(bindings).toEqual({
      [`${as}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: as }],
      [`${rs}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: rs }],
    });
  });

  it('`up` ran the mcp-client service once: the whole sequence and notes_add, exit 0', async () => {
    const state = await waitFor('mcp-client', '{{.State.Status}} {{.State.ExitCode}}', (v) => v.startsWith('exited'));
    const id = await containerOf('mcp-client');
    const out = await run('docker', ['logs', id]);
    const client = cliRun(Number(state.split(' ')[1]), out.stdout, out.stderr);
    expect(state, `${client.stderr}\n${await logs()}`).toBe('exited 0');
    expect(client.steps).toEqual(DEX_SEQUENCE);
    expect(JSON.parse(toolText(client))).toMatchObject({ text: 'hello from the mcp-client service' });
  });

  it('`run --rm mcp-client` runs the headless sequence again in a container and exits 0 after the tool call', async () => {
    const r = await composeRun(['run', '--rm', '-T', 'mcp-client'], 180_000);
    const client = cliRun(r.code, r.stdout, r.stderr);
    expect(r.code, `${r.stderr}\n${await logs()}`).toBe(0);
    expect(client.steps).toEqual(DEX_SEQUENCE);
    const call = client.events.find((e) => e.step === 'tools-call');
    expect(call?.data.tool).toBe('notes_add');
    expect(call?.http[0]).toMatchObject({ method: 'POST', url: `${rsUrl}/mcp`, status: 200 });
    expect(JSON.parse(toolText(client))).toMatchObject({ text: 'hello from the mcp-client service' });
  });

  it('serves the same issuer and resource URLs to the host as inside the compose network', async () => {
    const prm = parseProtectedResourceMetadata(await (await fetch(`${rsUrl}/.well-known/oauth-protected-resource/mcp`)).json());
    expect(prm.resource).toBe(`${rsUrl}/mcp`);
    expect(prm.authorization_servers).toEqual([issuer]);
    const as = parseAuthorizationServerMetadata(
      await (await fetch(`${new URL(issuer).origin}/.well-known/oauth-authorization-server/dex`)).json(),
    );
    expect(as.issuer).toBe(issuer);
    expect(as.token_endpoint).toBe(`${issuer}/token`);
  });

  it('the CLI on the host logs in through the published ports and sees the notes alice added from the containers', async () => {
    const host: CliRun = await runCliOnHost(['connect', `${rsUrl}/mcp`, ...DEX_ALICE, '--call', 'notes_list']);
    expect(host.code, `${host.stderr}\n${await logs()}`).toBe(0);
    expect(host.steps).toEqual(DEX_SEQUENCE);
    expect(host.events.find((e) => e.step === 'token')?.http[0]).toMatchObject({ method: 'POST', url: `${issuer}/token`, status: 200 });
    // Same issuer and subject from both sides: the RS files the notes under one user.
    const notes = JSON.parse(toolText(host)) as Note[];
    expect(notes.map((n) => n.text)).toEqual(['hello from the mcp-client service', 'hello from the mcp-client service']);
  });

  it('`down -v` removes every container and the network of the project', async () => {
    down = await composeRun(['down', '-v', '--remove-orphans']);
    expect(down.code, down.stderr).toBe(0);
    expect(await containersWithLabel(PROJECT_LABEL, project)).toEqual([]);
    const networks = await run('docker', ['network', 'ls', '-q', '--filter', `label=${PROJECT_LABEL}=${project}`]);
    expect(networks.stdout.trim()).toBe('');
  });
}
