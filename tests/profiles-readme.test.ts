/**
 * profiles/README.md shows example profiles for hosted IdPs; each must be a profile the launcher accepts, so that
 * copying one and filling in the tenant's values is all it takes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProfile, profileClientArgs, profileRsEnv } from '@mcp-lab/launcher';

const README = readFileSync(new URL('../profiles/README.md', import.meta.url), 'utf8');
const EXAMPLES = [...README.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as { name: string });

describe('the example profiles in profiles/README.md', () => {
  it('are there: the generic one and Auth0, Entra ID, Okta, Clerk', () => {
    expect(EXAMPLES.map((e) => e.name)).toEqual(['my-idp', 'auth0', 'entra', 'okta', 'clerk']);
  });

  it.each(EXAMPLES.map((e) => [e.name, e] as const))('%s parses and configures an RS and the CLI', (name, json) => {
    const profile = parseProfile(json, `profiles/README.md#${name}`);
    expect(profile.idp.kind).toBe('external');
    const env = profileRsEnv(profile, profile.idp.issuer, 'http://127.0.0.1:3000');
    expect(env.MCP_ISSUER).toBe(profile.idp.issuer);
    expect(env.MCP_AUDIENCE).not.toContain('{rs}');
    expect(profileClientArgs(profile).slice(0, 2)).toEqual(['--login-driver', 'auto']);
  });
});
