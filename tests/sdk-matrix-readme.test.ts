/**
 * The README's SDK interop table is the one tests/sdk-matrix.json renders, and the JSON covers the whole matrix:
 * both SDK majors × both transports × every IdP profile the matrix tests run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCells, renderTable, withTable } from '../scripts/sdk-matrix-table.ts';
import { SDK_CLIENTS, TRANSPORTS } from './sdk-matrix.ts';

const MATRIX_IDPS = ['embedded', 'keycloak', 'keycloak-resource-indicators', 'dex'];

describe('README SDK interop table', () => {
  it('is generated from tests/sdk-matrix.json', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(withTable(readme, renderTable(readCells()))).toBe(readme);
  });

  it('tests/sdk-matrix.json has one result per client × transport × IdP, and each stop names its limit', () => {
    const cells = readCells();
    const keys = cells.map((c) => `${c.client} ${c.transport} ${c.idp}`).sort();
    const expected = SDK_CLIENTS.flatMap((c) => TRANSPORTS.flatMap((t) => MATRIX_IDPS.map((i) => `${c} ${t} ${i}`))).sort();
    expect(keys).toEqual(expected);
    for (const c of cells) if (c.outcome === 'stopped') expect(c.limit, `${c.client} ${c.transport} ${c.idp}`).toMatch(/\S/);
  });

  it('the v2 SDK over Streamable HTTP steps up by itself on every IdP whose permissions are scopes', () => {
    const v2 = readCells().filter((c) => c.client === 'sdk-v2' && c.transport === 'streamable-http' && c.idp !== 'dex');
    expect(v2.map((c) => c.outcome)).toEqual(v2.map(() => 'stepped-up'));
  });
});
