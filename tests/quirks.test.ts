/**
 * One named test per quirk on the embedded IdP (oidc-provider): the lab started by the launcher with that quirk in
 * its fault-injecting layer, the CLI's `--json` trace asserted — the check that refuses, or the recovery step and
 * the tool result. `no-iss` runs on Dex (tests/quirks-dex.test.ts); the refresh race in
 * tests/quirks-refresh-race.test.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { QUIRK_JWKS_PATH } from '@mcp-lab/authz-metadata/quirks';
import type { Lab } from '@mcp-lab/launcher';
import { ageStoredTokens, cleanUp, connect, event, failedCheck, newStore, quirkLab, refreshFamilies, toolSucceeded } from './quirks-lab.ts';

afterAll(cleanUp);

/** The key ids the quirk layer's JWKS publishes now. */
async function layerKids(lab: Lab): Promise<string[]> {
  const res = await fetch(`${new URL(lab.issuer).origin}${QUIRK_JWKS_PATH}`);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

describe('AS metadata quirks', () => {
  it('issuer-trailing-slash: as-metadata refuses the issuer that differs by a slash', async () => {
    const lab = await quirkLab('embedded', ['issuer-trailing-slash']);
    const run = await connect(lab, await newStore());
    const detail = failedCheck(run, 'as-metadata', 'issuer identical to the one the resource named');
    expect(detail).toBe(`metadata issuer ${JSON.stringify(`${lab.issuer}/`)}, expected ${JSON.stringify(lab.issuer)}`);
  });

  it('no-rfc8414: as-metadata falls back to OpenID Connect Discovery and the tool call succeeds', async () => {
    const lab = await quirkLab('embedded', ['no-rfc8414']);
    const run = await connect(lab, await newStore());
    toolSucceeded(run);
    const asm = event(run, 'as-metadata');
    expect(asm.checks).toContainEqual({ name: `fetch ${lab.issuer}/.well-known/oauth-authorization-server`, ok: false, detail: 'HTTP 404; trying the next location' });
    expect(asm.data.url).toBe(`${lab.issuer}/.well-known/openid-configuration`);
  });

  it('no-s256: as-metadata refuses without S256 advertised', async () => {
    const lab = await quirkLab('embedded', ['no-s256']);
    const run = await connect(lab, await newStore());
    expect(failedCheck(run, 'as-metadata', 'PKCE S256 supported')).toBe('code_challenge_methods_supported absent');
  });

  it('no-dcr: registration stops and names the pre-registered and CIMD options', async () => {
    const lab = await quirkLab('embedded', ['no-dcr']);
    const run = await connect(lab, await newStore());
    expect(run.code).toBe(1);
    expect(event(run, 'as-metadata').data.registration_endpoint).toBeUndefined();
    const reg = event(run, 'registration', 'fail');
    expect(reg.data.error).toBe(`the authorization server ${lab.issuer} supports neither Client ID Metadata Documents nor Dynamic Client Registration`);
    expect(String(reg.data.hint)).toContain('--client-id');
  });
});

describe('authorization response quirks', () => {
  it('no-iss: the layer strips the iss oidc-provider sends and its advertisement; the callback proceeds', async () => {
    const lab = await quirkLab('embedded', ['no-iss']);
    const run = await connect(lab, await newStore());
    toolSucceeded(run);
    expect(event(run, 'as-metadata').data.authorization_response_iss_parameter_supported).toBeUndefined();
    expect(event(run, 'callback').checks).toContainEqual({ name: 'iss present when advertised (RFC 9207)', ok: true, detail: 'iss absent and not advertised: proceed' });
  });

  it('wrong-iss: callback refuses the response before the code is used', async () => {
    const lab = await quirkLab('embedded', ['wrong-iss']);
    const run = await connect(lab, await newStore());
    const detail = failedCheck(run, 'callback', 'iss matches the recorded issuer (RFC 9207)');
    expect(detail).toBe(`iss ${JSON.stringify(`${lab.issuer}/other-tenant`)}, expected ${JSON.stringify(lab.issuer)}`);
    expect(run.steps).not.toContain('token');
  });

  it('reject-resource: the Entra-like invalid_target stops the flow at the callback', async () => {
    const lab = await quirkLab('embedded', ['reject-resource']);
    const run = await connect(lab, await newStore());
    expect(run.code).toBe(1);
    const cb = event(run, 'callback', 'fail');
    expect(String(cb.data.error)).toMatch(/^the authorization server returned an error: invalid_target \(AADSTS9010010: /);
    expect(run.steps).not.toContain('token');
  });

  it('require-audience-param: without the audience the opaque token is refused to the end', async () => {
    const lab = await quirkLab('embedded', ['require-audience-param']);
    const run = await connect(lab, await newStore());
    expect(run.code).toBe(1);
    expect(event(run, 'era', 'fail').http.at(-1)?.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(run.steps.filter((s) => s === 'authorize')).toHaveLength(2);
    expect(run.events.at(-1)).toMatchObject({ step: 'era', status: 'fail', data: { next: 'give-up' } });
    expect(run.stderr).toContain('the MCP server still answers 401 after a new authorization');
  });

  it('require-audience-param: --authorize-param audience=<resource> gets a token the RS accepts', async () => {
    const lab = await quirkLab('embedded', ['require-audience-param']);
    const audience = `${lab.rsUrl}/mcp`;
    const run = await connect(lab, await newStore(), ['--authorize-param', `audience=${audience}`]);
    toolSucceeded(run);
    const authorize = event(run, 'authorize');
    expect(authorize.checks).toContainEqual({ name: 'extra authorization parameters (--authorize-param)', ok: true, detail: `audience=${audience}` });
    expect(new URL(String(authorize.data.authorization_url)).searchParams.get('audience')).toBe(audience);
  });
});

describe('token lifetime and refresh quirks', () => {
  it('short-token-ttl: the next run refreshes before expiry instead of sending the token', async () => {
    const lab = await quirkLab('embedded', ['short-token-ttl']);
    const store = await newStore();
    const first = await connect(lab, store);
    toolSucceeded(first);
    const expiresAt = Date.parse(String(event(first, 'token').data.expires_at));
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(20_000);
    const second = await connect(lab, store);
    toolSucceeded(second);
    expect(second.steps).toEqual(['probe', 'resource-metadata', 'as-metadata', 'registration', 'refresh', 'era', 'tools-list', 'tools-call']);
    expect(event(second, 'refresh').data.source).toBe('refresh');
  });

  it('single-use-refresh: a replayed refresh token revokes the family; the CLI logs in again', async () => {
    const lab = await quirkLab('embedded', ['single-use-refresh']);
    const store = await newStore();
    toolSucceeded(await connect(lab, store));
    const before = await readFile(`${store}/store.json`, 'utf8');
    await ageStoredTokens(store);
    toolSucceeded(await connect(lab, store));
    // The old store again: its refresh token was used once already.
    await writeFile(`${store}/store.json`, before);
    await ageStoredTokens(store);
    const replay = await connect(lab, store);
    toolSucceeded(replay);
    expect(String(event(replay, 'refresh', 'fail').data.error)).toContain('refresh token reuse detected; the token family is revoked');
    expect(event(replay, 'refresh', 'fail').data.next).toBe('authorize');
    expect(await refreshFamilies(lab)).toMatchObject({ reuseDetected: 1, revoked: 1 });
  });
});

describe('signing key and clock quirks', () => {
  it('rotate-keys: the refreshed token is signed by a new key the RS fetches; the tool call succeeds', async () => {
    // The RS refetches the JWKS for an unknown kid at most once a second here (its default is 30 s).
    const lab = await quirkLab('embedded', ['rotate-keys'], { rsEnv: { MCP_JWKS_COOLDOWN_MS: '1000' } });
    const store = await newStore();
    toolSucceeded(await connect(lab, store));
    const before = await layerKids(lab);
    await ageStoredTokens(store);
    await sleep(1100);
    const second = await connect(lab, store);
    toolSucceeded(second);
    expect(event(second, 'refresh').data.source).toBe('refresh');
    const after = await layerKids(lab);
    expect(before).toHaveLength(1);
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
  });

  it('clock-skew: tokens from a clock 5 minutes ahead are refused to the end', async () => {
    const lab = await quirkLab('embedded', ['clock-skew']);
    const run = await connect(lab, await newStore());
    expect(run.code).toBe(1);
    expect(event(run, 'era', 'fail').http.at(-1)?.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(run.steps).toContain('refresh');
    expect(run.events.at(-1)).toMatchObject({ step: 'era', status: 'fail', data: { next: 'give-up' } });
    expect(run.stderr).toContain('the MCP server still answers 401 after a new authorization');
  });
});

describe('resource server quirks', () => {
  it('strip-www-authenticate: the probe finds no challenge, PRM comes from the well-known URI', async () => {
    const lab = await quirkLab('embedded', ['strip-www-authenticate']);
    const run = await connect(lab, await newStore());
    toolSucceeded(run);
    expect(event(run, 'probe').checks).toContainEqual({ name: 'Bearer challenge present', ok: false, detail: 'no Bearer challenge; falling back to well-known URIs' });
    expect(event(run, 'resource-metadata').data.via).toBe('well-known');
  });

  it('prm-resource-mismatch: resource-metadata refuses metadata for another resource', async () => {
    const lab = await quirkLab('embedded', ['prm-resource-mismatch']);
    const run = await connect(lab, await newStore());
    const detail = failedCheck(run, 'resource-metadata', 'resource is identical to the expected resource identifier');
    expect(detail).toMatch(new RegExp(`^resource https://other\\.example/mcp; expected ${lab.rsUrl.replaceAll('.', '\\.')}/mcp \\(`));
  });
});
