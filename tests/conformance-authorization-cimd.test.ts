/**
 * The Client ID Metadata Document path end to end against a real AS: mcp-lab-client with
 * `--client-metadata-url https://127.0.0.1:<port>/mcp-lab-client.json` (its document hosted by the lab on loopback
 * over https, embedded-idp/test/cimd-host.ts), the embedded IdP trusting exactly that origin and certificate, the
 * RS — through the whole flow to a tool call, with the URL as the token's client_id.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, toolText } from '@mcp-lab/test-kit/cli';
import { startEmbeddedStack, type EmbeddedStack } from '@mcp-lab/test-kit/stack-embedded';
import { startCimdHost, type CimdHost } from '../embedded-idp/test/cimd-host.ts';

let host: CimdHost;
let stack: EmbeddedStack;
let store: string;
beforeAll(async () => {
  host = await startCimdHost();
  stack = await startEmbeddedStack({ idpEnv: { IDP_CIMD_TRUSTED_ORIGINS: host.origin, IDP_CIMD_CA_FILE: host.caFile } });
  store = await mkdtemp(join(tmpdir(), 'mcp-lab-cimd-'));
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await host?.close();
  await rm(store, { recursive: true, force: true });
});

describe('mcp-lab-client registers by Client ID Metadata Document at the embedded IdP', () => {
  it('uses the https URL of its document as client_id, and the IdP fetches it', async () => {
    const run = await runCli([
      'call', `${stack.rsUrl}/mcp`, 'whoami',
      '--login', 'alice:alice-password',
      '--client-metadata-url', host.clientId,
      '--store', store,
    ]);
    expect(run.code, `${run.stderr}\n${stack.output().slice(-2000)}`).toBe(0);
    const registration = run.events.find((e) => e.step === 'registration');
    expect(registration?.data).toMatchObject({ method: 'cimd', client_id: host.clientId });
    expect(host.fetches()).toBeGreaterThan(0);
    expect(JSON.parse(toolText(run))).toMatchObject({ client_id: host.clientId });
  }, 60_000);
});
