/**
 * SDK interop matrix, Keycloak profile `keycloak` (audience mapper: aud carries the RS identifiers whatever resource is asked). Permissions are client scopes, so notes_add needs a
 * step-up to notes:write; the pre-registered public client mcp-lab-cli. One Keycloak for the whole file.
 * See tests/sdk-matrix.ts for what each cell proves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeycloak } from './provisioned.ts';
import { SDK_CLIENTS, TRANSPORTS } from './sdk-matrix.ts';
import { expectCell } from './sdk-matrix-expect.ts';
import { startProfileLab, type MatrixLab } from './sdk-matrix-lab.ts';

const keycloakHome = requireKeycloak();

describe.runIf(keycloakHome !== undefined)('official SDK clients × Keycloak (keycloak)', () => {
  let lab: MatrixLab;
  beforeAll(async () => {
    lab = await startProfileLab('keycloak', { keycloakHome: keycloakHome! });
  }, 300_000);
  afterAll(async () => {
    await lab?.stop();
  });

  for (const client of SDK_CLIENTS) {
    for (const transport of TRANSPORTS) {
      it(`${client} over ${transport}: full flow to notes_add (step-up to notes:write), aud from the mappers`, async () => {
        await expectCell(client, { idp: 'keycloak', rsUrl: lab.lab.rsUrl }, transport, {
          stepUpNeeded: true,
          audience: (_resource) => expect.arrayContaining([lab.lab.rsUrl, `${lab.lab.rsUrl}/mcp`, `${lab.lab.rsUrl}/sse`]),
        });
      }, 120_000);
    }
  }
});
