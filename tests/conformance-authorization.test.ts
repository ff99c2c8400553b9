/**
 * The MCP conformance suite's authorization-server scenarios (`conformance authorization`, 0.2.0 alpha line)
 * against the embedded IdP: RFC 8414 metadata, and an authorization code grant with PKCE S256 and an RFC 8707
 * resource — requested without `scope`, which the IdP answers with its documented default scope (RFC 6749 §3.3).
 * The browser step is the lab client's headless login (tests/conformance-authorization.ts).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CLIENT_ID } from '@mcp-lab/embedded-idp';
import { startEmbeddedIdp, type RunningIdp } from '@mcp-lab/test-kit/idp-server';
import { runAuthorizationSuite, SUITE_NEXT_CLI } from './conformance-authorization.ts';

let idp: RunningIdp;
beforeAll(async () => {
  idp = await startEmbeddedIdp();
});
afterAll(async () => {
  await idp?.close();
});

describe('MCP conformance suite 0.2.0-alpha: authorization (embedded IdP)', () => {
  it('the alpha suite is installed (conformance-next)', () => {
    expect(existsSync(SUITE_NEXT_CLI), `missing ${SUITE_NEXT_CLI}; run npm install`).toBe(true);
  });

  it('every authorization-server scenario passes, with the pre-registered public client and a resource', async () => {
    const r = await runAuthorizationSuite({
      issuer: idp.issuer,
      clientId: CLI_CLIENT_ID,
      resource: 'http://127.0.0.1:3000/mcp',
      username: 'alice',
      password: 'alice-password',
      driver: 'embedded',
    });
    const summary = r.output.slice(r.output.indexOf('=== SUMMARY ==='));
    expect(r.authorizationUrl, r.output).toMatch(new RegExp(`^${idp.issuer}/auth\\?`));
    expect(summary, r.output.slice(-3000)).toMatch(/✓ authorization-server-metadata-endpoint: [1-9]\d* passed, 0 failed/);
    expect(summary, r.output.slice(-3000)).toMatch(/✓ authorization-code-grant: [1-9]\d* passed, 0 failed/);
    expect(summary).toMatch(/Total: [1-9]\d* passed, 0 failed/);
    expect(r.code).toBe(0);
  }, 120_000);
});
