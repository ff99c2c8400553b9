/**
 * The quirk suites' helpers: a lab started with quirks by the launcher (the code `npm start -- --quirk` runs), the
 * CLI as a subprocess with `--json` and the profile's login, stores that tests can age, the layer's refresh family
 * counters. Labs and stores are cleaned up by `cleanUp` (an afterAll of each suite).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { QUIRK_FAMILIES_PATH, captureSink, loadProfile, startLab, type Lab, type LabOptions, type QuirkName } from '@mcp-lab/launcher';
import { runCli, type CliRun, type StepLine } from '@mcp-lab/test-kit/cli';

const labs: Lab[] = [];
const stores: string[] = [];
export const log = captureSink();

export async function quirkLab(profileName: 'embedded' | 'dex', quirks: readonly QuirkName[], extra: Omit<LabOptions, 'log' | 'quirks'> = {}): Promise<Lab> {
  const lab = await startLab(loadProfile(profileName), { ...extra, quirks, log: log.stream });
  labs.push(lab);
  return lab;
}

export async function newStore(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-lab-quirks-'));
  stores.push(dir);
  return dir;
}

export async function cleanUp(): Promise<void> {
  await Promise.all(labs.splice(0).map((l) => l.stop()));
  await Promise.all(stores.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** `connect <rs>/mcp --call whoami` as the profile's first user, with the profile's client options. */
export function connect(lab: Lab, store: string, extra: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<CliRun> {
  const user = lab.profile.login.users[0];
  if (user === undefined) throw new Error(`profile ${lab.profile.name} has no user`);
  return runCli(['connect', `${lab.rsUrl}/mcp`, '--call', 'whoami', ...lab.clientArgs, '--login', `${user.username}:${user.password}`, '--store', store, ...extra], env);
}

/** Makes every stored access token look expired, as if the run came later (the refresh tokens stay as they are). */
export async function ageStoredTokens(store: string): Promise<void> {
  const file = join(store, 'store.json');
  const data = JSON.parse(await readFile(file, 'utf8')) as { tokens: { expires_at?: number }[] };
  for (const t of data.tokens) t.expires_at = Date.now() - 1000;
  await writeFile(file, JSON.stringify(data), { mode: 0o600 });
}

export async function refreshFamilies(lab: Lab): Promise<{ families: number; revoked: number; reuseDetected: number; refreshes: number }> {
  const res = await fetch(`${new URL(lab.issuer).origin}${QUIRK_FAMILIES_PATH}`);
  return (await res.json()) as { families: number; revoked: number; reuseDetected: number; refreshes: number };
}

export function event(run: CliRun, step: string, status: 'ok' | 'fail' = 'ok'): StepLine {
  const e = run.events.find((x) => x.step === step && x.status === status);
  expect(e, `no ${step}:${status} in ${run.steps.join(' ')}\n${run.stderr}`).toBeDefined();
  return e as StepLine;
}

/** Asserts that `step` failed on the named check, and returns the check's detail. */
export function failedCheck(run: CliRun, step: string, check: string): string {
  expect(run.code, run.stderr).toBe(1);
  const e = event(run, step, 'fail');
  expect(e.data.code).toBe('check-failed');
  const c = e.checks.find((x) => x.name === check);
  expect(c, `checks of ${step}: ${e.checks.map((x) => x.name).join('; ')}`).toMatchObject({ ok: false });
  expect(String(e.data.error)).toContain(check);
  expect(run.steps.at(-1)).toBe(`${step}:fail`);
  return c?.detail ?? '';
}

/** Asserts the run ended with a successful whoami. */
export function toolSucceeded(run: CliRun): void {
  expect(run.code, `${run.steps.join(' ')}\n${run.stderr}\n${log.text().slice(-3000)}`).toBe(0);
  expect(run.steps.at(-1)).toBe('tools-call');
}
