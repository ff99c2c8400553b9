/**
 * SDK interop matrix, Dex: permissions come from the email claim (alice may write), so notes_add needs no step-up;
 * the same cells run, both SDK majors × both transports, with the pre-registered public client (Dex has no DCR).
 * See tests/sdk-matrix.ts for what each cell proves.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startDexLab, type DexLab } from '@mcp-lab/test-kit/stack-dex';
import { requireDex } from './provisioned.ts';
import { SDK_CLIENTS, TRANSPORTS } from './sdk-matrix.ts';
import { expectCell } from './sdk-matrix-expect.ts';

const dexBin = requireDex();

describe.runIf(dexBin !== undefined)('official SDK clients × Dex', () => {
  let lab: DexLab;
  beforeAll(async () => {
    lab = await startDexLab({ dexBin: dexBin! });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });

  for (const client of SDK_CLIENTS) {
    for (const transport of TRANSPORTS) {
      it(`${client} over ${transport}: full flow to notes_add (no step-up needed)`, async () => {
        await expectCell(client, { idp: 'dex', rsUrl: lab.rsUrl }, transport, { stepUpNeeded: false });
      }, 60_000);
    }
  }
});
