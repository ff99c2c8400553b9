/**
 * The CLI's command line as a value: pure (no I/O, no process), so every usage error is a tested case. A usage
 * error is a UsageError; bin.ts turns it into exit status 2 (exitCodeOf) and is the only place that exits.
 */
import { PROTOCOL_ERAS } from '../steps/era.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../config.ts';
import { FlowError, messageOf } from '../errors.ts';
import type { FlowOptions } from '../flow/types.ts';
import { LOGIN_DRIVERS, type LoginDriverName } from '../login/drivers.ts';
import { DOCTOR_OPTIONS, EXPORT_OPTIONS, doctorArgs, exportTargets, misplacedDoctorOption, wantsExport } from '../doctor/args.ts';
import type { DoctorCommand } from '../doctor/command.ts';
import type { ExportTargets } from '../export/write.ts';
import { USAGE, type HelpTopic } from './usage.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The parts of the flow options that come from the command line. */
export type FlowArgs = Pick<
  FlowOptions,
  'command' | 'serverUrl' | 'transport' | 'protocolEra' | 'cookie' | 'login' | 'loginDriver' | 'clientId' | 'clientSecret' | 'clientMetadataUrl' | 'scope' | 'authorizeParams' | 'call' | 'fresh'
>;

export interface OutputArgs {
  /** `--json`: one JSON object per step event on stdout. */
  readonly json: boolean;
  /** `--store DIR`, else the configured store directory. */
  readonly store: string | undefined;
  /** `--trace-out`, `--mermaid`, `--har` (connect, tools, call): exports of the run; absent when none is asked for. */
  readonly exports?: ExportTargets;
}

export type CliRequest =
  | { readonly kind: 'help'; readonly text: string; readonly exitCode: 0 | 2 }
  /** Run by the MCP conformance suite: the server URL is the last argument, nothing else is read. */
  | { readonly kind: 'conformance'; readonly serverUrl: string }
  | { readonly kind: 'logout'; readonly url: string | undefined; readonly output: OutputArgs }
  | { readonly kind: 'flow'; readonly flow: FlowArgs; readonly output: OutputArgs }
  /** `doctor <url>`: everything the doctor needs but the terminal's color. */
  | { readonly kind: 'doctor'; readonly doctor: Omit<DoctorCommand, 'color'> };

const OPTIONS = {
  transport: { type: 'string' },
  'protocol-era': { type: 'string' },
  cookie: { type: 'boolean' },
  login: { type: 'string' },
  'login-driver': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'client-metadata-url': { type: 'string' },
  scope: { type: 'string' },
  'authorize-param': { type: 'string', multiple: true },
  call: { type: 'string' },
  args: { type: 'string' },
  fresh: { type: 'boolean' },
  store: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...EXPORT_OPTIONS,
  ...DOCTOR_OPTIONS,
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

/** Options that only the flow commands take (logout refuses them). */
const FLOW_ONLY = ['transport', 'protocol-era', 'cookie', 'login', 'login-driver', 'client-id', 'client-secret', 'client-metadata-url', 'scope', 'authorize-param', 'call', 'args', 'fresh'] as const;

/**
 * Authorization request parameters the flow itself sets (OAuth 2.1 §4.1.1, PKCE, RFC 8707, RFC 9207's binding):
 * `--authorize-param` adds to a request, it never replaces what protects it.
 */
export const RESERVED_AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'state', 'resource', 'scope'] as const;

const COMMANDS = ['connect', 'tools', 'call', 'logout', 'doctor'] as const satisfies readonly HelpTopic[];

/** Options that do not apply to doctor (it never uses the token store, the transport or a tool call). */
const NOT_FOR_DOCTOR = ['transport', 'cookie', 'call', 'args', 'fresh', 'store'] as const;

/** Parses the command line; throws UsageError for anything that cannot run. */
export function parseCliArgs(argv: readonly string[], mode: { readonly conformance: boolean } = { conformance: false }): CliRequest {
  if (mode.conformance) {
    const serverUrl = argv.at(-1);
    if (serverUrl === undefined) throw new UsageError('conformance mode: the server URL must be the last argument');
    return { kind: 'conformance', serverUrl: httpUrl(serverUrl, 'the server URL') };
  }
  const { values, positionals } = parseStrict(argv);
  const [command, ...rest] = positionals;
  if (command === undefined || command === 'help') return { kind: 'help', text: USAGE.main, exitCode: command === undefined && !values.help ? 2 : 0 };
  const topic = COMMANDS.find((c) => c === command);
  if (topic === undefined) throw new UsageError(`unknown command "${command}"`);
  if (values.help) return { kind: 'help', text: USAGE[topic], exitCode: 0 };
  if (topic === 'doctor') {
    const misplaced = NOT_FOR_DOCTOR.find((name) => values[name] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} does not apply to doctor`);
    const [url, ...more] = rest;
    if (url === undefined) throw new UsageError('doctor needs the MCP server URL');
    return { kind: 'doctor', doctor: doctorArgs(httpUrl(url, 'the MCP server URL'), more, values, (m) => new UsageError(m)) };
  }
  const doctorOnly = misplacedDoctorOption(values);
  if (doctorOnly) throw new UsageError(`--${doctorOnly} works with doctor only`);
  const exports = exportTargets(values);
  const output: OutputArgs = { json: values.json === true, store: values.store, ...(wantsExport(exports) ? { exports } : {}) };
  if (topic === 'logout') {
    const misplaced = [...FLOW_ONLY, ...(Object.keys(EXPORT_OPTIONS) as (keyof typeof EXPORT_OPTIONS)[])].find((name) => values[name] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} does not apply to logout`);
    if (rest.length > 1) throw new UsageError('logout takes at most one URL');
    return { kind: 'logout', url: rest[0] === undefined ? undefined : httpUrl(rest[0], 'the URL'), output };
  }
  const [url, ...more] = rest;
  if (url === undefined) throw new UsageError(`${topic} needs the MCP server URL`);
  return { kind: 'flow', flow: flowArgs(topic, httpUrl(url, 'the MCP server URL'), more, values), output };
}

/** node:util parseArgs, its errors (unknown option, missing value) turned into usage errors. */
function parseStrict(argv: readonly string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new UsageError(messageOf(cause), { cause });
  }
}

function flowArgs(command: 'connect' | 'tools' | 'call', serverUrl: string, more: readonly string[], values: Values): FlowArgs {
  const transport = values.transport ?? 'http';
  if (transport !== 'http' && transport !== 'sse') throw new UsageError('--transport must be http or sse');
  if (values.cookie && transport !== 'sse') throw new UsageError('--cookie works with --transport sse only');
  // Default auto: probe with server/discover, fall back to initialize (MCP 2026-07-28 Versioning §Backward Compatibility).
  const protocolEra = PROTOCOL_ERAS.find((e) => e === (values['protocol-era'] ?? 'auto'));
  if (protocolEra === undefined) throw new UsageError(`--protocol-era must be one of ${PROTOCOL_ERAS.join(', ')}`);
  if (protocolEra === 'modern' && transport === 'sse') throw new UsageError('--protocol-era modern needs --transport http (HTTP+SSE is 2024-11-05)');
  const loginDriver = LOGIN_DRIVERS.find((d) => d === (values['login-driver'] ?? 'auto'));
  if (loginDriver === undefined) throw new UsageError(`--login-driver must be one of ${LOGIN_DRIVERS.join(', ')}`);
  if (values['client-secret'] !== undefined && values['client-id'] === undefined) throw new UsageError('--client-secret needs --client-id');
  const scope = values.scope?.split(' ').filter(Boolean);
  if (values.scope !== undefined && !scope?.length) throw new UsageError('--scope needs at least one scope');
  const call = callArgs(command, more, values);
  const authorizeParams = values['authorize-param'] === undefined ? undefined : authorizeParamList(values['authorize-param']);
  const login = values.login === undefined ? undefined : credentials(values.login);
  return {
    command,
    serverUrl,
    transport,
    protocolEra,
    cookie: values.cookie === true,
    loginDriver: loginDriver satisfies LoginDriverName,
    ...(login ? { login } : {}),
    ...(values['client-id'] !== undefined ? { clientId: values['client-id'] } : {}),
    ...(values['client-secret'] !== undefined ? { clientSecret: values['client-secret'] } : {}),
    ...(values['client-metadata-url'] !== undefined ? { clientMetadataUrl: values['client-metadata-url'] } : {}),
    ...(scope ? { scope } : {}),
    ...(authorizeParams ? { authorizeParams } : {}),
    ...(call ? { call } : {}),
    fresh: values.fresh === true,
  };
}

/** `call <url> <tool> [json-args]`, or `connect <url> --call TOOL [--args JSON]`. */
function callArgs(command: 'connect' | 'tools' | 'call', more: readonly string[], values: Values): FlowArgs['call'] {
  if (command === 'call') {
    const [tool, json, ...extra] = more;
    if (tool === undefined) throw new UsageError('call needs a tool name: call <url> <tool> [json-args]');
    if (extra.length) throw new UsageError('call takes <url> <tool> [json-args]');
    if (values.call !== undefined || values.args !== undefined) throw new UsageError('the call command takes the tool and its arguments as <tool> [json-args], not --call/--args');
    return { tool, args: json === undefined ? {} : jsonObject(json, 'json-args') };
  }
  if (more.length) throw new UsageError(`${command} takes one URL`);
  if (values.call === undefined) {
    if (values.args !== undefined) throw new UsageError('--args needs --call');
    return undefined;
  }
  if (command !== 'connect') throw new UsageError('--call works with connect only; use the call command');
  return { tool: values.call, args: values.args === undefined ? {} : jsonObject(values.args, '--args') };
}

/** `--authorize-param name=value`, repeatable; a reserved or repeated name is a usage error. */
function authorizeParamList(items: readonly string[]): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf('=');
    if (i <= 0) throw new UsageError(`--authorize-param must be name=value, got "${item}"`);
    const name = item.slice(0, i);
    if ((RESERVED_AUTHORIZE_PARAMS as readonly string[]).includes(name)) {
      throw new UsageError(`--authorize-param cannot set ${name}: the flow sets it (${RESERVED_AUTHORIZE_PARAMS.join(', ')} are reserved)`);
    }
    if (name in out) throw new UsageError(`--authorize-param ${name} is given twice`);
    out[name] = item.slice(i + 1);
  }
  return out;
}

function credentials(value: string): NonNullable<FlowArgs['login']> {
  const i = value.indexOf(':');
  if (i <= 0) throw new UsageError('--login must be user:password');
  return { username: value.slice(0, i), password: value.slice(i + 1) };
}

function jsonObject(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new UsageError(`${what} is not JSON: ${messageOf(cause)}`, { cause });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

/** An absolute http(s) URL, as given (the flow normalizes it). */
function httpUrl(text: string, what: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch (cause) {
    throw new UsageError(`${what} is not a URL: ${text}`, { cause });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${what} must be an http or https URL: ${text}`);
  return text;
}

/**
 * The process exit status for an error that ended a command: 2 for a usage or configuration error (the command
 * could not start as given), 1 for a flow that failed and for anything unexpected.
 */
export function exitCodeOf(err: unknown): 1 | 2 {
  if (err instanceof UsageError || err instanceof ConfigError) return 2;
  if (err instanceof FlowError && err.code === 'invalid-options') return 2;
  return 1;
}
