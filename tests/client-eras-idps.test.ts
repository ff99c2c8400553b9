/**
 * The CLI in each era against the same RS on the Dex and Keycloak profiles (tests/client-eras.test.ts does the
 * embedded IdP): `--protocol-era modern`, `auto` (the default) and `legacy` over Streamable HTTP, and HTTP+SSE
 * (always 2025), each to a tool result. Keycloak grants scopes as permissions, so `notes_add` first needs a step-up
 * to notes:write; Dex maps permissions from the email claim (alice has notes:write at once), so no step-up. One lab
 * (one Keycloak start) per profile for the whole file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureSink, loadProfile, startLab, type Lab } from '@mcp-lab/launcher';
import { runCli, toolText, type CliRun } from '@mcp-lab/test-kit/cli';
import { provisionedLabs } from './provisioned.ts';

const PROVISIONED = provisionedLabs();

const ERAS = [
  { name: 'modern', args: ['--protocol-era', 'modern'], path: '/mcp', step: 'era', era: 'modern' },
  { name: 'auto (default)', args: [], path: '/mcp', step: 'era', era: 'modern' },
  { name: 'legacy', args: ['--protocol-era', 'legacy'], path: '/mcp', step: 'initialize', era: 'legacy' },
  { name: 'legacy over HTTP+SSE', args: ['--transport', 'sse'], path: '/sse', step: 'initialize', era: 'legacy' },
] as const;

const PROFILES = [
  { name: 'dex', stepUp: false },
  { name: 'keycloak', stepUp: true },
] as const;

for (const { name, stepUp } of PROFILES) {
  describe.runIf(PROVISIONED.ready[name])(`mcp-lab-client in each era on the ${name} profile`, () => {
    const log = captureSink();
    const stores: string[] = [];
    let lab: Lab;

    beforeAll(async () => {
      try {
        lab = await startLab(loadProfile(name), { rsEnv: PROVISIONED.rsEnv, ...PROVISIONED.paths, log: log.stream });
      } catch (err) {
        throw new Error(`the ${name} lab did not start: ${(err as Error).message}\n${log.text()}`, { cause: err });
      }
    }, 300_000);

    afterAll(async () => {
      await lab?.stop();
      await Promise.all(stores.map((d) => rm(d, { recursive: true, force: true })));
    }, 60_000);

    async function connect(extra: readonly string[], path: string, text: string): Promise<CliRun> {
      const store = await mkdtemp(join(tmpdir(), `mcp-lab-client-eras-${name}-`));
      stores.push(store);
      const user = lab.profile.login.users[0];
      if (user === undefined) throw new Error(`profile ${name} has no users`);
      const args = [
        'connect', `${lab.rsUrl}${path}`, ...extra, ...lab.clientArgs, '--login', `${user.username}:${user.password}`,
        '--store', store, '--call', 'notes_add', '--args', JSON.stringify({ text }),
      ];
      return runCli(args);
    }

    it.each(ERAS)('$name: to a tool result' + (stepUp ? ' through a step-up' : ' (no step-up)'), async ({ name: era, args, path, step, era: spoken }) => {
      const text = `from the ${era} CLI on ${name}`;
      const run = await connect(args, path, text);
      expect(run.code, run.stderr).toBe(0);
      const mcpSteps = run.steps.filter((s) => ['era', 'initialize', 'tools-list', 'tools-call', 'tools-call:fail', 'step-up'].includes(s));
      expect(mcpSteps).toEqual(
        stepUp ? [step, 'tools-list', 'tools-call:fail', 'step-up', step, 'tools-call'] : [step, 'tools-list', 'tools-call'],
      );
      if (step === 'era') {
        expect(run.events.find((e) => e.step === 'era')?.data).toMatchObject({ era: spoken, protocolVersion: '2026-07-28' });
        const calls = run.events.filter((e) => e.step === 'tools-call').flatMap((e) => e.http);
        for (const c of calls) expect(c.headers).toMatchObject({ 'mcp-method': 'tools/call', 'mcp-name': 'notes_add' });
        for (const e of run.events) for (const h of e.http) expect(h.headers['mcp-session-id']).toBeUndefined();
      }
      if (stepUp) expect(run.events.find((e) => e.step === 'step-up')?.data.scope).toMatch(/notes:write/);
      expect(JSON.parse(toolText(run))).toMatchObject({ text });
    }, 180_000);
  });
}
