/**
 * SDK interop matrix, embedded IdP (scopes are permissions: notes_add needs a step-up to notes:write). Both SDK
 * majors register by DCR the way they do (with the challenge's scope), over Streamable HTTP and HTTP+SSE.
 * See tests/sdk-matrix.ts for what each cell proves.
 */
import { describe, it } from 'vitest';
import { useEmbeddedStack } from '@mcp-lab/test-kit/stack-embedded';
import { SDK_CLIENTS, TRANSPORTS } from './sdk-matrix.ts';
import { expectCell } from './sdk-matrix-expect.ts';

const stack = useEmbeddedStack();

describe('official SDK clients × embedded IdP', () => {
  for (const client of SDK_CLIENTS) {
    for (const transport of TRANSPORTS) {
      it(`${client} over ${transport}: full flow to notes_add (step-up to notes:write)`, async () => {
        await expectCell(client, { idp: 'embedded', rsUrl: stack().rsUrl }, transport, { stepUpNeeded: true, audience: (resource) => resource });
      }, 60_000);
    }
  }
});
