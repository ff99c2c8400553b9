/**
 * `mcp-lab-client doctor` (a subprocess, `--json`) against the lab's own RS on every IdP profile, started by the
 * launcher: every check passes or is not-applicable with a reason (Dex: one known warning, it sends no RFC 9207
 * `iss`). Then two real misconfigurations of the lab RS, each found by exactly its check, SARIF from a real run
 * validated by the SARIF 2.1.0 schema, and the exports of a real `connect` validated by their schema and parser.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harValidator, parseMermaid, sarifValidator } from '../mcp-client/test/formats.ts';
import { captureSink, freePort, loadProfile, startLab, type Lab, type LabOptions, type Profile } from '@mcp-lab/launcher';
import { runCli } from '@mcp-lab/test-kit/cli';
import { provisionedLabs, type LabProfileName } from './provisioned.ts';

type ProfileName = LabProfileName;
const PROVISIONED = provisionedLabs();
const READY = PROVISIONED.ready;

/** Warnings a profile's IdP earns for real, with the reason; anything else must pass or be not-applicable. */
const KNOWN_WARNINGS: Readonly<Record<ProfileName, readonly string[]>> = {
  embedded: [],
  // Dex sends no RFC 9207 iss in authorization responses, and authz-metadata does not claim it does.
  dex: ['as-iss-parameter'],
  keycloak: [],
};

interface CheckLine {
  id: string;
  verdict: 'pass' | 'fail' | 'warn' | 'not-applicable';
  summary: string;
  help: string;
  evidence: { method: string; url: string; status: number; headers: Record<string, string> }[];
}

function checksOf(stdout: string): CheckLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as CheckLine);
}

const labs: Lab[] = [];
const dirs: string[] = [];

async function start(profile: Profile, opts: Omit<LabOptions, 'log'> = {}): Promise<Lab> {
  const sink = captureSink();
  try {
    const lab = await startLab(profile, {
      ...opts,
      rsEnv: { ...PROVISIONED.rsEnv, ...opts.rsEnv },
      ...PROVISIONED.paths,
      log: sink.stream,
    });
    labs.push(lab);
    return lab;
  } catch (err) {
    throw new Error(`the ${profile.name} lab did not start: ${(err as Error).message}\n--- output ---\n${sink.text()}`, { cause: err });
  }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-lab-doctor-'));
  dirs.push(dir);
  return dir;
}

function loginArgs(profile: Profile): string[] {
  const user = profile.login.users[0];
  if (!user) throw new Error(`profile ${profile.name} has no user`);
  return ['--login', `${user.username}:${user.password}`];
}

/** `mcp-lab-client doctor <rs>/mcp` with the profile's doctor options and login, `--json`. */
async function doctor(lab: Lab, extra: readonly string[] = []) {
  const run = await runCli(['doctor', `${lab.rsUrl}/mcp`, ...lab.doctorArgs, ...loginArgs(lab.profile), ...extra]);
  return { ...run, checks: checksOf(run.stdout) };
}

afterAll(async () => {
  await Promise.all(labs.map((l) => l.stop()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}, 60_000);

describe.each(PROVISIONED.profiles)('doctor against the lab RS on the %s profile', (name) => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await start(loadProfile(name));
  }, 300_000);

  it('every check passes or is not-applicable with a reason; exit code 0', { timeout: 180_000 }, async () => {
    const run = await doctor(lab);
    expect(run.code, run.stderr).toBe(0);
    expect(run.checks.length).toBeGreaterThan(20);
    const unexpected = run.checks.filter((c) => c.verdict === 'fail' || (c.verdict === 'warn' && !KNOWN_WARNINGS[name].includes(c.id)));
    expect(unexpected.map((c) => `${c.id}: ${c.verdict}: ${c.summary}`)).toEqual([]);
    for (const c of run.checks.filter((x) => x.verdict === 'not-applicable')) expect(c.summary.length, c.id).toBeGreaterThan(20);
    expect(run.checks.filter((c) => c.verdict === 'warn').map((c) => c.id)).toEqual(KNOWN_WARNINGS[name]);
    // The token checks ran with a real token from the profile's IdP.
    for (const id of ['token-accepted', 'token-signature', 'token-alg-none', 'token-query-refused', 'transport-origin', 'challenge-grammar', 'prm-resource-identity', 'as-issuer-echo']) {
      expect(run.checks.find((c) => c.id === id)?.verdict, id).toBe('pass');
    }
    // A second audience: the embedded IdP by resource indicator, Dex by scope; Keycloak adds the RS audience always.
    expect(run.checks.find((c) => c.id === 'token-foreign-audience')?.verdict).toBe(name === 'keycloak' ? 'not-applicable' : 'pass');
    expect(run.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
  });
});

describe.runIf(READY.embedded)('doctor against a misconfigured lab RS (embedded IdP, real processes)', () => {
  const embedded = loadProfile('embedded');

  it('an RS that also accepts the second audience: exactly token-foreign-audience fails', { timeout: 180_000 }, async () => {
    const rsPort = await freePort();
    const rs = `http://127.0.0.1:${rsPort}`;
    const lab = await start(embedded, { rsPort, rsEnv: { MCP_AUDIENCE: [rs, `${rs}/mcp`, `${rs}/sse`, embedded.audience.foreign ?? ''].join(',') } });
    const run = await doctor(lab);
    expect(run.code).toBe(1);
    expect(run.checks.filter((c) => c.verdict === 'fail').map((c) => c.id)).toEqual(['token-foreign-audience']);
    expect(run.stderr).toContain('token-foreign-audience (docs/errors.md#token-foreign-audience)');
  });

  it('an RS naming its issuer with a trailing slash: exactly as-issuer-echo fails', { timeout: 180_000 }, async () => {
    const idpPort = await freePort();
    const lab = await start(embedded, { idpPort, rsEnv: { MCP_AUTHORIZATION_SERVERS: `http://127.0.0.1:${idpPort}/` } });
    const run = await doctor(lab);
    expect(run.code).toBe(1);
    expect(run.checks.filter((c) => c.verdict === 'fail').map((c) => c.id)).toEqual(['as-issuer-echo']);
  });
});

describe('the README names what the profiles declare', () => {
  it("the quick start's doctor command asks for the embedded profile's second audience", async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const foreign = loadProfile('embedded').audience.foreign;
    expect(foreign).toBeDefined();
    expect(readme).toContain(`npx mcp-lab-client doctor http://127.0.0.1:3000/mcp --login alice:alice-password --foreign-resource ${foreign}`);
  });
});

describe.runIf(READY.embedded)('exports of real runs (embedded lab)', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await start(loadProfile('embedded'));
  }, 120_000);

  it('doctor --sarif writes a log that validates against the SARIF 2.1.0 schema', { timeout: 120_000 }, async () => {
    const file = join(await tempDir(), 'doctor.sarif');
    const run = await doctor(lab, ['--sarif', file]);
    expect(run.code, run.stderr).toBe(0);
    const log = JSON.parse(await readFile(file, 'utf8')) as { runs: { results: unknown[] }[] };
    const validate = sarifValidator();
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    expect(log.runs[0]?.results).toHaveLength(run.checks.length);
  });

  it('connect --trace-out --mermaid --har: JSON lines, a diagram Mermaid parses, a HAR the schema accepts, no credential in the clear', { timeout: 120_000 }, async () => {
    const dir = await tempDir();
    const [trace, diagram, har] = [join(dir, 'trace.jsonl'), join(dir, 'run.mmd'), join(dir, 'run.har')];
    const run = await runCli(['connect', `${lab.rsUrl}/mcp`, ...loginArgs(lab.profile), '--store', dir, '--call', 'whoami', '--trace-out', trace, '--mermaid', diagram, '--har', har]);
    expect(run.code, run.stderr).toBe(0);
    const lines = (await readFile(trace, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; event: { step: string } });
    expect(lines.map((l) => l.event.step)).toEqual(run.events.map((e) => e.step));
    const text = await readFile(diagram, 'utf8');
    await expect(parseMermaid(text)).resolves.toBe('sequence');
    for (const p of ['Client->>RS', 'Client->>AS', 'Browser->>AS', 'Browser->>Client']) expect(text).toContain(p);
    const harJson = JSON.parse(await readFile(har, 'utf8')) as unknown;
    const validate = harValidator();
    expect(validate(harJson), JSON.stringify(validate.errors)).toBe(true);
    const all = `${await readFile(trace, 'utf8')}${text}${JSON.stringify(harJson)}`;
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    expect(all).not.toContain('alice-password');
  });
});
