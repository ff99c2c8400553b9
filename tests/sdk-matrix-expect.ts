/**
 * The assertions every matrix cell makes, by outcome (see tests/sdk-matrix.ts).
 */
import { expect } from 'vitest';
import { insufficientScopeAnswers, recordedCell, runCell, type LabUnderTest, type SdkClient, type TransportName } from './sdk-matrix.ts';

export interface CellExpectation {
  /** The IdP's permissions are scopes, so notes_add needs more than the first challenge's scope. */
  readonly stepUpNeeded: boolean;
  /** The `aud` the client's final token must have, for the resource URL it connected to. */
  readonly audience?: (resource: string) => unknown;
}

export async function expectCell(client: SdkClient, lab: LabUnderTest, transport: TransportName, expectation: CellExpectation): Promise<void> {
  const run = await runCell(client, lab, transport);
  const { result, exchanges, provider } = run;
  expect(run.toolNames).toEqual(['notes_add', 'notes_delete', 'notes_list', 'whoami']);
  // The first authorization asked for the first challenge's scope, never for everything at once.
  const firstScope = provider.authorizations[0]?.searchParams.get('scope') ?? '';
  if (expectation.stepUpNeeded) expect(firstScope.split(' ')).not.toContain('notes:write');

  if (expectation.audience !== undefined) {
    expect(run.audience).toEqual(expectation.audience(`${lab.rsUrl}${transport === 'streamable-http' ? '/mcp' : '/sse'}`));
  }
  switch (result.outcome) {
    case 'called':
      expect(expectation.stepUpNeeded, 'notes_add worked without a step-up on an IdP whose permissions are scopes').toBe(false);
      expect(run.note?.text).toBe(`written by ${client} over ${transport}`);
      break;
    case 'stepped-up': {
      expect(run.note?.text).toBe(`written by ${client} over ${transport}`);
      // The lab asked for exactly what was missing, and the SDK asked the IdP for the union.
      expect(insufficientScopeAnswers(exchanges)).toEqual([{ error: 'insufficient_scope', scope: expect.stringContaining('notes:write') }]);
      const stepUp = provider.authorizations.at(-1)!.searchParams.get('scope')!.split(' ');
      expect(stepUp).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
      expect(provider.grantedScope()?.split(' ')).toEqual(expect.arrayContaining(['notes:write']));
      break;
    }
    case 'stopped': {
      // The lab answered correctly: 403 insufficient_scope naming notes:write, every time it was asked.
      const answers = insufficientScopeAnswers(exchanges);
      expect(answers.length).toBeGreaterThan(0);
      for (const a of answers) expect(a).toEqual({ error: 'insufficient_scope', scope: expect.stringContaining('notes:write') });
      // What stopped the client is its own limit: no new authorization request after the 403.
      expect(provider.authorizations).toHaveLength(run.authorizationsBefore403);
      expect(run.error).toBeInstanceOf(Error);
      break;
    }
  }
  // The measured cell is the recorded one (tests/sdk-matrix.json, rendered into the README).
  expect(result, 'measured result differs from tests/sdk-matrix.json: run `node scripts/sdk-matrix-table.ts --update`').toEqual(recordedCell(client, lab.idp, transport));
}
