import { describe, expect, it } from 'vitest';
import { QUIRKS, formatQuirkList, labQuirks, loadProfile, parseProfile, parseQuirkList } from '../src/index.ts';

describe('quirks in profiles and on the command line', () => {
  it('a profile may list quirks; an unknown one is a profile problem naming the known ones', () => {
    const base = JSON.parse(JSON.stringify(loadProfile('embedded'))) as Record<string, unknown>;
    expect(parseProfile({ ...base, quirks: ['no-iss'] }, 'x.json').quirks).toEqual(['no-iss']);
    expect(() => parseProfile({ ...base, quirks: ['no-iss', 'bogus'] }, 'x.json')).toThrow(/quirks: a list of quirk names; unknown: bogus \(known: issuer-trailing-slash/);
  });

  it('--quirk a,b and $MCP_LAB_QUIRKS: comma or space separated, unknown names refused', () => {
    expect(parseQuirkList('no-iss, rotate-keys no-dcr')).toEqual(['no-iss', 'rotate-keys', 'no-dcr']);
    expect(parseQuirkList('')).toEqual([]);
    expect(() => parseQuirkList('no-is')).toThrow(/unknown quirk no-is; known: /);
  });

  it('profile and command-line quirks together: AS quirks first, each once, catalogue order', () => {
    expect(labQuirks(['strip-www-authenticate', 'no-iss'], ['no-iss', 'issuer-trailing-slash'])).toEqual(['issuer-trailing-slash', 'no-iss', 'strip-www-authenticate']);
  });

  it('--list-quirks lists every catalogue entry with what it imitates and what a correct client does', () => {
    const text = formatQuirkList();
    for (const q of QUIRKS) {
      expect(text).toContain(q.name);
      expect(text).toContain(q.imitates);
      expect(text).toContain(q.correctClient);
    }
  });
});

describe('the README quirks table', () => {
  it('is the catalogue, verbatim', async () => {
    const { readFileSync } = await import('node:fs');
    const { quirkMarkdownTable } = await import('../src/quirks.ts');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(quirkMarkdownTable());
  });
});
