/**
 * `no-iss` where the quirk is the IdP's own: real Dex (no RFC 9207 `iss` in its authorization responses) behind
 * authz-metadata with the quirk layer on, started by the launcher with profiles/dex.json. A correct client takes the
 * "not advertised, absent: proceed" row of the RFC 9207 table and the tool call succeeds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp, connect, event, newStore, quirkLab, toolSucceeded } from './quirks-lab.ts';
import { requireDex } from './provisioned.ts';

const dexBin = requireDex();

afterAll(cleanUp);

describe.runIf(dexBin !== undefined)('quirks on Dex', () => {
  it('no-iss: the callback proceeds without iss (not advertised) and the tool call succeeds', async () => {
    const lab = await quirkLab('dex', ['no-iss'], dexBin === undefined ? {} : { dexBin });
    const run = await connect(lab, await newStore());
    toolSucceeded(run);
    const asm = event(run, 'as-metadata');
    expect(asm.data.authorization_response_iss_parameter_supported).toBeUndefined();
    expect(asm.checks).toContainEqual({ name: 'RFC 9207 iss in authorization responses', ok: true, detail: 'not advertised: iss checked when present' });
    const callback = event(run, 'callback');
    expect(callback.data.iss).toBeUndefined();
    expect(callback.checks).toContainEqual({ name: 'iss present when advertised (RFC 9207)', ok: true, detail: 'iss absent and not advertised: proceed' });
  }, 120_000);
});
