import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError, exitCodeOf, parseCliArgs, type CliRequest } from '../src/cli/args.ts';
import { USAGE } from '../src/cli/usage.ts';
import { ConfigError } from '../src/config.ts';
import { FlowError } from '../src/errors.ts';

const URL_ = 'http://127.0.0.1:3000/mcp';

function flow(argv: string[]) {
  const r = parseCliArgs(argv);
  if (r.kind !== 'flow') throw new Error(`expected a flow request, got ${r.kind}`);
  return r;
}

describe('parseCliArgs: commands', () => {
  it('connect <url>: defaults (http, no cookie, auto login driver, not fresh, pretty output)', () => {
    expect(parseCliArgs(['connect', URL_])).toEqual<CliRequest>({
      kind: 'flow',
      flow: { command: 'connect', serverUrl: URL_, transport: 'http', protocolEra: 'auto', cookie: false, loginDriver: 'auto', fresh: false },
      output: { json: false, store: undefined },
    });
  });

  it('connect with every option', () => {
    const r = flow([
      'connect', 'http://127.0.0.1:3000/sse', '--transport', 'sse', '--protocol-era', 'legacy', '--cookie', '--login', 'alice:pa:ss', '--login-driver', 'dex',
      '--client-id', 'cli', '--client-secret', 's3cret', '--client-metadata-url', 'https://example.com/client.json',
      '--scope', 'notes:read  notes:write', '--call', 'notes_add', '--args', '{"text":"x"}', '--fresh', '--store', '/tmp/s', '--json',
    ]);
    expect(r.flow).toEqual({
      command: 'connect',
      serverUrl: 'http://127.0.0.1:3000/sse',
      transport: 'sse',
      protocolEra: 'legacy',
      cookie: true,
      login: { username: 'alice', password: 'pa:ss' },
      loginDriver: 'dex',
      clientId: 'cli',
      clientSecret: 's3cret',
      clientMetadataUrl: 'https://example.com/client.json',
      scope: ['notes:read', 'notes:write'],
      call: { tool: 'notes_add', args: { text: 'x' } },
      fresh: true,
    });
    expect(r.output).toEqual({ json: true, store: '/tmp/s' });
  });

  it('--authorize-param name=value, repeatable (values may contain =)', () => {
    const r = flow(['connect', URL_, '--authorize-param', 'audience=https://api.example', '--authorize-param', 'prompt=login', '--authorize-param', 'x=a=b']);
    expect(r.flow.authorizeParams).toEqual({ audience: 'https://api.example', prompt: 'login', x: 'a=b' });
    expect(flow(['connect', URL_]).flow).not.toHaveProperty('authorizeParams');
  });

  it('tools <url>', () => {
    expect(flow(['tools', URL_]).flow).toMatchObject({ command: 'tools', serverUrl: URL_ });
    expect(flow(['tools', URL_]).flow.call).toBeUndefined();
  });

  it('call <url> <tool> [json-args]', () => {
    expect(flow(['call', URL_, 'whoami']).flow.call).toEqual({ tool: 'whoami', args: {} });
    expect(flow(['call', URL_, 'notes_add', '{"text":"hi"}']).flow.call).toEqual({ tool: 'notes_add', args: { text: 'hi' } });
  });

  it('--fresh on every flow command', () => {
    for (const argv of [['connect', URL_], ['tools', URL_], ['call', URL_, 'whoami']]) expect(flow([...argv, '--fresh']).flow.fresh).toBe(true);
  });

  it('logout, logout <url>', () => {
    expect(parseCliArgs(['logout'])).toEqual({ kind: 'logout', url: undefined, output: { json: false, store: undefined } });
    expect(parseCliArgs(['logout', URL_, '--store', 'd', '--json'])).toEqual({ kind: 'logout', url: URL_, output: { json: true, store: 'd' } });
  });

  it('help: no command is a usage error (2); help and --help are not (0)', () => {
    expect(parseCliArgs([])).toEqual({ kind: 'help', text: USAGE.main, exitCode: 2 });
    expect(parseCliArgs(['help'])).toEqual({ kind: 'help', text: USAGE.main, exitCode: 0 });
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help', text: USAGE.main, exitCode: 0 });
    expect(parseCliArgs(['-h'])).toEqual({ kind: 'help', text: USAGE.main, exitCode: 0 });
    expect(parseCliArgs(['connect', '--help'])).toEqual({ kind: 'help', text: USAGE.connect, exitCode: 0 });
    expect(parseCliArgs(['logout', '-h'])).toEqual({ kind: 'help', text: USAGE.logout, exitCode: 0 });
  });

  it('conformance mode: the server URL is the last argument, whatever precedes it', () => {
    expect(parseCliArgs(['--whatever', URL_], { conformance: true })).toEqual({ kind: 'conformance', serverUrl: URL_ });
  });
});

describe('parseCliArgs: each usage error', () => {
  it.each<[string, string[], RegExp]>([
    ['unknown command', ['frobnicate', URL_], /unknown command "frobnicate"/],
    ['"main" is not a command', ['main'], /unknown command "main"/],
    ['unknown option', ['connect', URL_, '--bogus'], /Unknown option '--bogus'/],
    ['option without its value', ['connect', URL_, '--transport'], /--transport/],
    ['value given to a flag', ['connect', URL_, '--fresh=yes'], /--fresh/],
    ['connect without a URL', ['connect'], /connect needs the MCP server URL/],
    ['tools without a URL', ['tools'], /tools needs the MCP server URL/],
    ['--authorize-param without =', ['connect', URL_, '--authorize-param', 'audience'], /--authorize-param must be name=value, got "audience"/],
    ['--authorize-param that sets resource', ['connect', URL_, '--authorize-param', 'resource=https://x'], /--authorize-param cannot set resource: the flow sets it/],
    ['--authorize-param that sets state', ['connect', URL_, '--authorize-param', 'state=x'], /--authorize-param cannot set state/],
    ['--authorize-param given twice', ['connect', URL_, '--authorize-param', 'audience=a', '--authorize-param', 'audience=b'], /--authorize-param audience is given twice/],
    ['--authorize-param on logout', ['logout', '--authorize-param', 'audience=a'], /--authorize-param does not apply to logout/],
    ['call without a URL', ['call'], /call needs the MCP server URL/],
    ['not a URL', ['connect', 'localhost:3000'], /must be an http or https URL/],
    ['not a URL at all', ['connect', 'nope'], /is not a URL: nope/],
    ['a non-http URL', ['connect', 'ftp://example.com/mcp'], /must be an http or https URL/],
    ['connect with two URLs', ['connect', URL_, URL_], /connect takes one URL/],
    ['tools with two URLs', ['tools', URL_, URL_], /tools takes one URL/],
    ['call without a tool', ['call', URL_], /call needs a tool name/],
    ['call with too many arguments', ['call', URL_, 'whoami', '{}', 'extra'], /call takes <url> <tool> \[json-args\]/],
    ['call with --call', ['call', URL_, 'whoami', '--call', 'other'], /not --call\/--args/],
    ['call args not JSON', ['call', URL_, 'whoami', '{nope'], /json-args is not JSON/],
    ['call args a JSON array', ['call', URL_, 'whoami', '[1]'], /json-args must be a JSON object/],
    ['call args JSON null', ['call', URL_, 'whoami', 'null'], /json-args must be a JSON object/],
    ['--call with tools', ['tools', URL_, '--call', 'whoami'], /--call works with connect only/],
    ['--args without --call', ['connect', URL_, '--args', '{}'], /--args needs --call/],
    ['--args not JSON', ['connect', URL_, '--call', 'x', '--args', 'nope'], /--args is not JSON/],
    ['--args a JSON string', ['connect', URL_, '--call', 'x', '--args', '"s"'], /--args must be a JSON object/],
    ['--transport neither http nor sse', ['connect', URL_, '--transport', 'websocket'], /--transport must be http or sse/],
    ['--cookie without sse', ['connect', URL_, '--cookie'], /--cookie works with --transport sse only/],
    ['--protocol-era neither auto, modern nor legacy', ['connect', URL_, '--protocol-era', '2026'], /--protocol-era must be one of auto, modern, legacy/],
    ['--protocol-era modern over HTTP+SSE', ['connect', URL_, '--transport', 'sse', '--protocol-era', 'modern'], /--protocol-era modern needs --transport http/],
    ['--login-driver unknown', ['connect', URL_, '--login-driver', 'okta'], /--login-driver must be one of auto, embedded, dex, keycloak/],
    ['--login without a colon', ['connect', URL_, '--login', 'alice'], /--login must be user:password/],
    ['--login with an empty user', ['connect', URL_, '--login', ':secret'], /--login must be user:password/],
    ['--client-secret without --client-id', ['connect', URL_, '--client-secret', 's'], /--client-secret needs --client-id/],
    ['--scope empty', ['connect', URL_, '--scope', '  '], /--scope needs at least one scope/],
    ['logout with two URLs', ['logout', URL_, URL_], /logout takes at most one URL/],
    ['logout with a flow option', ['logout', '--login', 'a:b'], /--login does not apply to logout/],
    ['logout --fresh', ['logout', '--fresh'], /--fresh does not apply to logout/],
    ['logout with a bad URL', ['logout', 'nope'], /is not a URL/],
    ['conformance mode without a URL', [], /conformance mode: the server URL must be the last argument/],
  ])('%s', (name, argv, message) => {
    const parse = () => parseCliArgs(argv, { conformance: name.startsWith('conformance') });
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
    expect(exitCodeOf(catchError(parse))).toBe(2);
  });
});

describe('exitCodeOf', () => {
  it.each<[string, unknown, 1 | 2]>([
    ['a usage error', new UsageError('x'), 2],
    ['a configuration error', new ConfigError('mcp-lab-client environment', ['MCP_CONFORMANCE_CONTEXT: must be a JSON object']), 2],
    ['flow options that cannot work', new FlowError('not a URL', { code: 'invalid-options' }), 2],
    ['a failed flow', new FlowError('token request failed', { code: 'oauth-error' }), 1],
    ['a failed check', new FlowError('state matches: differs', { code: 'check-failed' }), 1],
    ['anything unexpected', new TypeError('boom'), 1],
    ['a thrown string', 'boom', 1],
  ])('%s → %i', (_name, err, code) => {
    expect(exitCodeOf(err)).toBe(code);
  });
});

describe('bin.ts: the exit status the shell sees', () => {
  const BIN = fileURLToPath(new URL('../bin.ts', import.meta.url));
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, MCP_CONFORMANCE_SCENARIO: '' } });

  it('a usage error exits 2 with the message and a pointer to --help on stderr', () => {
    const r = cli('connect', URL_, '--transport', 'websocket');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: --transport must be http or sse\nRun "mcp-lab-client --help" for usage.\n');
  });

  it('--help exits 0 with the usage on stdout', () => {
    const r = cli('connect', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(USAGE.connect);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
