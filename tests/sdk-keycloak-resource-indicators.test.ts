/**
 * SDK interop matrix, Keycloak profile `keycloak-resource-indicators` (Keycloak's experimental RFC 8707 support: aud narrowed to the requested resource). Permissions are client scopes, so notes_add needs a
 * step-up to notes:write; the pre-registered public client mcp-lab-cli. One Keycloak for the whole file.
 * See tests/sdk-matrix.ts for what each cell proves.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { requireKeycloak } from './provisioned.ts';
import { SDK_CLIENTS, TRANSPORTS } from './sdk-matrix.ts';
import { expectCell } from './sdk-matrix-expect.ts';
import { startProfileLab, type MatrixLab } from './sdk-matrix-lab.ts';

const keycloakHome = requireKeycloak();

describe.runIf(keycloakHome !== undefined)('official SDK clients × Keycloak (keycloak-resource-indicators)', () => {
  let lab: MatrixLab;
  beforeAll(async () => {
    lab = await startProfileLab('keycloak-resource-indicators', { keycloakHome: keycloakHome! });
  }, 600_000);
  afterAll(async () => {
    await lab?.stop();
  });

  for (const client of SDK_CLIENTS) {
    for (const transport of TRANSPORTS) {
      it(`${client} over ${transport}: full flow to notes_add (step-up to notes:write), aud narrowed to the resource`, async () => {
        await expectCell(client, { idp: 'keycloak-resource-indicators', rsUrl: lab.lab.rsUrl }, transport, {
          stepUpNeeded: true,
          audience: (resource) => resource,
        });
      }, 120_000);
    }
  }
});
