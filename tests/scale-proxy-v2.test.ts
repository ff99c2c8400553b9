/**
 * The official v2 SDK client (`@modelcontextprotocol/client`, unmodified, pinned to 2026-07-28) through the lab's
 * real proxy (Debian's HAProxy running docker/scale/haproxy.cfg) in front of three replicas sharing a real Redis and
 * one notes file, with the embedded IdP as their authorization server: the SDK discovers and signs in through the
 * proxy (401 → RFC 9728 → RFC 8414 → authorization code + PKCE with `resource`, headless sign-in), calls a tool,
 * lists and reads its notes resource and keeps a `subscriptions/listen` stream open on whichever replica the proxy
 * chose; notes added on each of the three replicas by another request all reach that stream over the Redis bus.
 * (The 2025-era SDK clients through the proxy: tests/scale-proxy.test.ts.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type { OAuthClientProvider } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_CLIENT_ID } from '../embedded-idp/src/app.ts';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { startEmbeddedIdp, type RunningIdp } from '@mcp-lab/test-kit/idp-server';
import { modernRequest } from '@mcp-lab/test-kit/mcp-messages';
import type { RunningProcess } from '@mcp-lab/test-kit/processes';
import { ALICE, NOTES_SCOPE, toolJson } from '@mcp-lab/test-kit/rs-session';
import { HeadlessOAuthProvider } from '@mcp-lab/test-kit/sdk-oauth-provider';
import { obtainToken } from '@mcp-lab/test-kit/tokens';
import { modernPost, scalePrereqs, startProxy, startReplicas, type ReplicaSet } from './scale-harness.ts';

const redisUrl = process.env.MCP_LAB_REDIS_URL;
const ok = await scalePrereqs({ proxy: true });

/** The IdP, the replicas (whose public URL is the proxy's) and the proxy, and the notes file they share. */
interface ProxiedLab {
  idp: RunningIdp;
  replicas: ReplicaSet;
  proxy: { url: string; process: RunningProcess };
  dir: string;
}

describe.runIf(ok)('the official v2 SDK client through HAProxy, with listen across replicas', () => {
  const lab = {} as ProxiedLab;

  beforeAll(async () => {
    // The proxy's URL is the replicas' public URL (RFC 9728 `resource`, the tokens' audience): chosen first.
    const port = await freePort();
    const proxyUrl = `http://127.0.0.1:${port}`;
    lab.idp = await startEmbeddedIdp({ IDP_RESOURCES: `${proxyUrl},${proxyUrl}/mcp` });
    lab.dir = await mkdtemp(join(tmpdir(), 'mcp-lab-scale-v2-'));
    lab.replicas = await startReplicas(redisUrl!, 3, 10, { issuer: lab.idp.issuer, publicUrl: proxyUrl, env: { MCP_DB_PATH: join(lab.dir, 'notes.db') } });
    lab.proxy = await startProxy(lab.replicas.replicas.map((r) => r.url), port);
  }, 60_000);
  afterAll(async () => {
    await lab.proxy?.process.stop();
    await lab.replicas?.close();
    await lab.idp?.close();
    if (lab.dir) await rm(lab.dir, { recursive: true, force: true });
  });

  it('signs in and calls whoami through the proxy, and its listen stream hears notes added on every replica', async () => {
    const mcpUrl = new URL(`${lab.proxy.url}/mcp`);
    // The lab's pre-registered native client (see tests/sdk-v2-client.test.ts for why not DCR); the SDK drives it.
    const provider = new HeadlessOAuthProvider({
      redirectUrl: `http://127.0.0.1:${await freePort()}/callback`,
      username: ALICE.username,
      password: ALICE.password,
      clientId: CLI_CLIENT_ID,
      clientIssuer: lab.idp.issuer,
      clientMetadata: { client_name: 'mcp-lab v2 SDK through the proxy', application_type: 'native' },
    });
    const options = { authProvider: provider as unknown as OAuthClientProvider };
    const newClient = () => new Client({ name: 'mcp-lab-scale-v2', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });

    const first = new StreamableHTTPClientTransport(mcpUrl, options);
    await expect(newClient().connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    await first.finishAuth(provider.takeCallback());
    expect(provider.authorizations[0]!.searchParams.get('resource')).toBe(mcpUrl.href);

    const client = newClient();
    const updates: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', (n) => void updates.push(n.params.uri));
    await client.connect(new StreamableHTTPClientTransport(mcpUrl, options));
    try {
      expect(toolJson<{ sub: string }>(await client.callTool({ name: 'whoami', arguments: {} })).sub).toBe(ALICE.sub);
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.name)).toEqual(['notes']);
      const uri = resources[0]!.uri;
      const subscription = await client.listen({ resourceSubscriptions: [uri] });
      expect(subscription.honoredFilter).toEqual({ resourceSubscriptions: [uri] });

      // Another application of alice's adds a note on each replica directly: the stream lives on exactly one of
      // them, so at least two of these changes reach it from another replica.
      const writer = await obtainToken({ issuer: lab.idp.issuer, resource: mcpUrl.href, scope: NOTES_SCOPE, username: ALICE.username, password: ALICE.password, clientId: CLI_CLIENT_ID });
      for (const [i, replica] of lab.replicas.replicas.entries()) {
        const added = await modernPost(replica.url, writer.access_token, modernRequest('tools/call', { name: 'notes_add', arguments: { text: `on replica ${i}` } }));
        expect(added.messages[0]?.result?.isError, JSON.stringify(added)).toBeUndefined();
      }
      await vi.waitFor(() => expect(updates).toEqual([uri, uri, uri]), { timeout: 10_000, interval: 50 });

      // What a client does on the notification: read the resource again (through the proxy, any replica).
      const read = await client.readResource({ uri });
      const texts = (JSON.parse((read.contents[0] as { text: string }).text) as Array<{ text: string }>).map((n) => n.text);
      expect(texts).toEqual(['on replica 0', 'on replica 1', 'on replica 2']);
      await subscription.close();
      expect(await subscription.closed).toBe('local');
    } finally {
      await client.close();
    }
  }, 60_000);
});
