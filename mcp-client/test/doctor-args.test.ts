import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { doctorArgs, exportTargets, misplacedDoctorOption, type DoctorValues } from '../src/doctor/args.ts';
import { FLOW_CHECK_TO_DOCTOR, catalogLinkForFlowCheck } from '../src/doctor/flow-links.ts';
import { checkDefinition } from '../src/doctor/registry.ts';

const URL_ = 'https://mcp.example.com/mcp';
const usage = (m: string) => new Error(`usage: ${m}`);
const parse = (values: DoctorValues, more: string[] = []) => doctorArgs(URL_, more, values, usage);

describe('doctor arguments', () => {
  it('defaults: auto era, auto login driver, no credentials, no files', () => {
    expect(parse({})).toEqual({ serverUrl: URL_, json: false, protocolEra: 'auto', loginDriver: 'auto' });
  });

  it('every option lands where the doctor reads it', () => {
    expect(
      parse({
        login: 'alice:pw:with:colons', 'login-driver': 'dex', 'client-id': 'c', scope: 'a  b', 'foreign-resource': 'https://other.example/mcp', 'foreign-scope': 'openid email',
        'expired-token': 'E', 'foreign-token': 'F', 'protocol-era': 'modern', json: true, sarif: 'out.sarif', 'trace-out': 't.jsonl', mermaid: 'd.mmd', har: 'h.har',
      }),
    ).toEqual({
      serverUrl: URL_, json: true, protocolEra: 'modern', loginDriver: 'dex', login: { username: 'alice', password: 'pw:with:colons' }, clientId: 'c', scope: ['a', 'b'],
      foreignResource: 'https://other.example/mcp', foreignScope: ['openid', 'email'], foreignToken: 'F', expiredToken: 'E', sarif: 'out.sarif', traceOut: 't.jsonl', mermaid: 'd.mmd', har: 'h.har',
    });
  });

  it.each([
    { name: 'a second URL', values: {}, more: ['x'], error: 'doctor takes one URL' },
    { name: '--token with --login', values: { token: 't', login: 'a:b' }, error: '--token and --login exclude each other' },
    { name: 'an empty --token', values: { token: ' ' }, error: '--token needs a token' },
    { name: 'an unknown era', values: { 'protocol-era': '2026-07-28' }, error: '--protocol-era must be one of auto, modern, legacy' },
    { name: '--login without a colon', values: { login: 'alice' }, error: '--login must be user:password' },
    { name: '--foreign-resource without --login', values: { 'foreign-resource': 'https://o.example' }, error: '--foreign-resource needs --login (the doctor asks the authorization server for that token)' },
    { name: '--foreign-resource not a URL', values: { login: 'a:b', 'foreign-resource': 'other' }, error: '--foreign-resource is not an absolute URL: other' },
    { name: '--client-secret without --client-id', values: { 'client-secret': 's' }, error: '--client-secret needs --client-id' },
    { name: 'an empty --foreign-scope', values: { login: 'a:b', 'foreign-scope': ' ' }, error: '--foreign-scope needs at least one scope' },
  ])('refuses $name', ({ values, more, error }) => {
    expect(() => parse(values, more)).toThrow(`usage: ${error}`);
  });

  it('doctor-only options are named when given to another command; export flags are not doctor-only', () => {
    expect(misplacedDoctorOption({ sarif: 'x' })).toBe('sarif');
    expect(misplacedDoctorOption({ mermaid: 'x', json: true })).toBeUndefined();
    expect(exportTargets({ mermaid: 'd', har: 'h' })).toEqual({ mermaid: 'd', har: 'h' });
  });
});

describe('flow refusals link the doctor check that diagnoses them', () => {
  it('every mapped check name is one a client step records, and every target is a doctor check', () => {
    const dir = new URL('../src/steps/', import.meta.url);
    const source = readdirSync(dir).map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n');
    for (const [name, id] of Object.entries(FLOW_CHECK_TO_DOCTOR)) {
      expect(source, name).toContain(`'${name}'`);
      expect(checkDefinition(id).id).toBe(id);
    }
    expect(catalogLinkForFlowCheck('resource is identical to the expected resource identifier')).toBe('docs/errors.md#prm-resource-identity');
    expect(catalogLinkForFlowCheck('state matches')).toBeUndefined();
  });
});

describe('the CLI parser routes doctor and the export flags', () => {
  it('doctor <url> becomes a doctor request with its own options', async () => {
    const { parseCliArgs } = await import('../src/cli/args.ts');
    expect(parseCliArgs(['doctor', URL_, '--token', 'T', '--sarif', 'o.sarif', '--json', '--protocol-era', 'legacy'])).toEqual({
      kind: 'doctor',
      doctor: { serverUrl: URL_, json: true, protocolEra: 'legacy', loginDriver: 'auto', token: 'T', sarif: 'o.sarif' },
    });
  });

  it('the export flags reach the flow commands; doctor-only flags are refused there; flow-only flags are refused by doctor', async () => {
    const { parseCliArgs, UsageError } = await import('../src/cli/args.ts');
    const r = parseCliArgs(['connect', URL_, '--mermaid', 'd.mmd', '--har', 'h.har', '--trace-out', 't.jsonl']);
    expect(r.kind === 'flow' ? r.output.exports : undefined).toEqual({ traceOut: 't.jsonl', mermaid: 'd.mmd', har: 'h.har' });
    expect(() => parseCliArgs(['connect', URL_, '--sarif', 'x'])).toThrow(new UsageError('--sarif works with doctor only'));
    expect(() => parseCliArgs(['doctor', URL_, '--transport', 'sse'])).toThrow(new UsageError('--transport does not apply to doctor'));
    expect(() => parseCliArgs(['logout', '--har', 'h.har'])).toThrow(new UsageError('--har does not apply to logout'));
    expect(() => parseCliArgs(['doctor'])).toThrow(new UsageError('doctor needs the MCP server URL'));
  });

  it('doctor --help prints the doctor usage', async () => {
    const { parseCliArgs } = await import('../src/cli/args.ts');
    const r = parseCliArgs(['doctor', '--help']);
    expect(r).toMatchObject({ kind: 'help', exitCode: 0 });
    expect(r.kind === 'help' ? r.text : '').toMatch(/^Usage: mcp-lab-client doctor <url>/);
  });
});
