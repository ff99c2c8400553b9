import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { startProcess } from '@mcp-lab/test-kit/processes';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('main.ts', () => {
  it('exits 1 with one message naming each bad variable', () => {
    const r = spawnSync(process.execPath, [MAIN], {
      env: { ...process.env, IDP_PORT: 'abc', IDP_RESOURCES: 'nope', IDP_LOG_LEVEL: 'chatty' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('invalid embedded IdP configuration');
    for (const name of ['IDP_PORT', 'IDP_RESOURCES', 'IDP_LOG_LEVEL']) expect(r.stderr).toContain(name);
  });

  it('listens, prints its issuer, serves metadata and stops on SIGTERM', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const proc = await startProcess({
      command: process.execPath,
      args: [MAIN],
      env: { IDP_PORT: String(port), IDP_ISSUER: issuer, IDP_LOG_LEVEL: 'warn' },
      readyUrl: `${issuer}/.well-known/oauth-authorization-server`,
    });
    try {
      const meta = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
      expect(meta.issuer).toBe(issuer);
      expect(proc.output()).toContain(`embedded IdP issuer: ${issuer}`);
    } finally {
      await proc.stop();
    }
    expect(proc.child.exitCode).toBe(0);
  });
});
