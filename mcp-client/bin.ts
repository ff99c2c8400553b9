#!/usr/bin/env node
/**
 * mcp-lab-client: walks the MCP authorization sequence step by step against an MCP server, then lists or calls
 * its tools. This file parses arguments and is the only place that calls process.exit.
 */
import { spawn } from 'node:child_process';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { enableCliCompileCache } from './src/compile-cache.ts';
import { ConfigError, compileCacheDir, loadConfig } from './src/config.ts';
import { FlowError, messageOf } from './src/errors.ts';
import type { Command, FlowOptions } from './src/flow.ts';
import type { LoginDriverName } from './src/login/drivers.ts';
import type { Sink } from './src/render/json.ts';
import { DOCTOR_OPTIONS, DOCTOR_USAGE, EXPORT_OPTIONS, doctorArgs, exportTargets, misplacedDoctorOption } from './src/doctor/args.ts';

// Start-up is most of a CLI run: only the modules above (all small) are loaded before the command is known;
// the rest is imported when a command needs it (the MCP SDK only by the MCP steps, the login drivers only when
// logging in). V8's compile cache keeps the compiled code of those JavaScript modules between runs; a cache
// directory that cannot be made only means no cache.
enableCliCompileCache(compileCacheDir(process.env));

const USAGE: Record<string, string> = {
  main: `Usage: mcp-lab-client <command> [options]

Commands:
  connect <url>              probe → discovery → registration → authorization → initialize → tools/list
                             (add --call <tool> [--args json] to call a tool)
  tools <url>                the same, ending with the tool list
  call <url> <tool> [json]   the same, ending with one tool call
  logout [url]               forget stored tokens (of one MCP server, or all)
  doctor <url>               diagnose an MCP server's authorization setup (see docs/errors.md)

Run "mcp-lab-client <command> --help" for the options of a command.
`,
  connect: `Usage: mcp-lab-client connect <url> [options]

Runs the whole MCP authorization sequence and shows every step.

Options:
  --transport http|sse       Streamable HTTP (default) or legacy HTTP+SSE
  --cookie                   (sse only) exchange the token for a session cookie via POST /session
  --login user:password      log in headlessly instead of opening a browser
  --login-driver NAME        auto (default), embedded, dex, keycloak
  --client-id ID             use a pre-registered client
  --client-secret SECRET     its secret (confidential client)
  --client-metadata-url URL  https URL of this client's metadata document (CIMD client_id)
  --scope "a b"              request these scopes instead of the server's challenge
  --call TOOL                call a tool after listing
  --args JSON                arguments for --call (a JSON object)
  --store DIR                token store directory (default $MCP_LAB_CLIENT_HOME or ~/.config/mcp-lab-client)
  --json                     one JSON object per step on stdout
  --trace-out FILE           write the run as JSON lines
  --mermaid FILE             write a Mermaid sequence diagram of the run
  --har FILE                 write the HTTP exchanges as HAR 1.2 (credentials redacted)
  -h, --help                 this help
`,
  tools: `Usage: mcp-lab-client tools <url> [options]

Authorizes (reusing a stored token when there is one) and lists the server's tools.
Options: as for "connect" (--transport, --cookie, --login, --login-driver, --client-id, --client-secret,
--client-metadata-url, --scope, --store, --json).
`,
  call: `Usage: mcp-lab-client call <url> <tool> [json-args] [options]

Authorizes (reusing a stored token when there is one) and calls one tool. A 403 insufficient_scope
triggers a step-up authorization (at most twice).
Options: as for "connect".
`,
  doctor: '',
  logout: `Usage: mcp-lab-client logout [url] [--store DIR] [--json]

Forgets stored tokens: those for the MCP server at <url>, or all of them. Client registrations are kept.
`,
};

const OPTIONS = {
  transport: { type: 'string' },
  cookie: { type: 'boolean' },
  login: { type: 'string' },
  'login-driver': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'client-metadata-url': { type: 'string' },
  scope: { type: 'string' },
  call: { type: 'string' },
  args: { type: 'string' },
  store: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...EXPORT_OPTIONS,
  ...DOCTOR_OPTIONS,
} satisfies ParseArgsConfig['options'];

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const sink: Sink = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

function openBrowser(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('xdg-open', [url], { detached: true, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} is not JSON: ${messageOf(err)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

async function main(argv: string[]): Promise<number> {
  const config = loadConfig(process.env, process.stdout.isTTY === true);
  if (config.conformance) {
    const url = argv.at(-1);
    if (!url) throw new UsageError('conformance mode: the server URL must be the last argument');
    const { runConformance } = await import('./src/conformance.ts');
    return runConformance({ serverUrl: url, scenario: config.conformance.scenario, context: config.conformance.context, sink });
  }
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  if (command === undefined || command === 'help') {
    sink.out(USAGE.main as string);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (!Object.hasOwn(USAGE, command) || command === 'main') throw new UsageError(`unknown command "${command}"`);
  if (values.help) {
    sink.out(command === 'doctor' ? DOCTOR_USAGE : (USAGE[command] as string));
    return 0;
  }
  if (command === 'doctor') {
    if (rest[0] === undefined) throw new UsageError('doctor needs the MCP server URL');
    const { doctorCommand } = await import('./src/doctor/command.ts');
    const cmd = doctorArgs(rest[0], rest.slice(1), values, (m) => new UsageError(m));
    return doctorCommand({ ...cmd, color: config.color }, { sink, fetch: globalThis.fetch });
  }
  const misplaced = misplacedDoctorOption(values);
  if (misplaced) throw new UsageError(`--${misplaced} works with doctor only`);
  const exports = exportTargets(values);
  const rendered = values.json
    ? (await import('./src/render/json.ts')).jsonObserver(sink)
    : (await import('./src/render/pretty.ts')).prettyObserver(sink, { color: config.color });
  const { TraceRecorder } = await import('./src/export/trace.ts');
  const { wantsExport, writeExports } = await import('./src/export/write.ts');
  const recorder = new TraceRecorder(rest[0] ?? '');
  const observer = wantsExport(exports) ? recorder.flow(rendered) : rendered;
  const writeTrace = async () => {
    if (!wantsExport(exports)) return;
    for (const path of await writeExports(recorder.trace(), exports)) sink.err(`wrote ${path}\n`);
  };
  const { TokenStore } = await import('./src/store.ts');
  const store = new TokenStore(values.store ?? config.storeDir);

  if (command === 'logout') {
    if (rest.length > 1) throw new UsageError('logout takes at most one URL');
    const { canonicalResource } = await import('@mcp-lab/protocol');
    const resource = rest[0] === undefined ? undefined : canonicalResource(rest[0]);
    const started = performance.now();
    const forgotten = await store.forgetTokens(resource);
    observer.step({ step: 'logout', status: 'ok', http: [], checks: [], ms: Math.round(performance.now() - started), data: { resource: resource ?? 'all', forgotten } });
    return 0;
  }

  const serverUrl = rest[0];
  if (serverUrl === undefined) throw new UsageError(`${command} needs the MCP server URL`);
  let call: FlowOptions['call'];
  if (command === 'call') {
    const tool = rest[1];
    if (tool === undefined) throw new UsageError('call needs a tool name: call <url> <tool> [json-args]');
    if (rest.length > 3) throw new UsageError('call takes <url> <tool> [json-args]');
    call = { tool, args: rest[2] === undefined ? {} : parseJsonObject(rest[2], 'json-args') };
  } else {
    if (rest.length > 1) throw new UsageError(`${command} takes one URL`);
    if (values.call !== undefined) {
      if (command !== 'connect') throw new UsageError('--call works with connect only; use the call command');
      call = { tool: values.call, args: values.args === undefined ? {} : parseJsonObject(values.args, '--args') };
    } else if (values.args !== undefined) {
      throw new UsageError('--args needs --call');
    }
  }
  const transport = values.transport ?? 'http';
  if (transport !== 'http' && transport !== 'sse') throw new UsageError('--transport must be http or sse');
  const loginDriver = (values['login-driver'] ?? 'auto') as LoginDriverName;
  const { LOGIN_DRIVERS } = await import('./src/login/drivers.ts');
  if (!LOGIN_DRIVERS.includes(loginDriver)) throw new UsageError(`--login-driver must be one of ${LOGIN_DRIVERS.join(', ')}`);
  let login: FlowOptions['login'];
  if (values.login !== undefined) {
    const i = values.login.indexOf(':');
    if (i <= 0) throw new UsageError('--login must be user:password');
    login = { username: values.login.slice(0, i), password: values.login.slice(i + 1) };
  }
  if (values['client-secret'] !== undefined && values['client-id'] === undefined) throw new UsageError('--client-secret needs --client-id');
  const scope = values.scope?.split(' ').filter(Boolean);

  const { runFlow } = await import('./src/flow.ts');
  try {
    await runFlow({
      command: command as Command,
      serverUrl,
      transport,
      cookie: values.cookie === true,
      ...(login ? { login } : {}),
      loginDriver,
      ...(values['client-id'] !== undefined ? { clientId: values['client-id'] } : {}),
      ...(values['client-secret'] !== undefined ? { clientSecret: values['client-secret'] } : {}),
      ...(values['client-metadata-url'] !== undefined ? { clientMetadataUrl: values['client-metadata-url'] } : {}),
      ...(scope?.length ? { scope } : {}),
      ...(call ? { call } : {}),
      store,
      fetch: globalThis.fetch,
      observer,
      openBrowser,
    });
    await writeTrace();
    return 0;
  } catch (err) {
    await writeTrace();
    if (err instanceof FlowError) {
      sink.err(`error: ${err.step ? `step "${err.step}" failed: ` : ''}${err.message}\n`);
      if (err.hint) sink.err(`hint: ${err.hint}\n`);
      const { catalogLinkForFlowCheck } = await import('./src/doctor/flow-links.ts');
      const link = catalogLinkForFlowCheck(err.check?.name);
      if (link) sink.err(`see: ${link} (or run: mcp-lab-client doctor ${serverUrl})\n`);
      return 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`error: ${err.message}\nRun "mcp-lab-client --help" for usage.\n`);
      process.exit(2);
    }
    process.stderr.write(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
