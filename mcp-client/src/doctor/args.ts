/**
 * The doctor's and the exporters' command-line options, as values: pure, so the CLI parser calls it and the
 * tests table it. Usage errors are thrown through `usage` (the parser's own error type).
 */
import type { ParseArgsConfig } from 'node:util';
import { LOGIN_DRIVERS } from '../login/drivers.ts';
import type { ExportTargets } from '../export/write.ts';
import type { DoctorCommand } from './command.ts';
import { PROTOCOL_ERAS } from '../steps/era.ts';

/** `--trace-out`, `--mermaid`, `--har`: for connect, tools, call and doctor. */
export const EXPORT_OPTIONS = {
  'trace-out': { type: 'string' },
  mermaid: { type: 'string' },
  har: { type: 'string' },
} satisfies ParseArgsConfig['options'];

/** The options only `doctor` takes (`--protocol-era` it shares with the flow commands). */
export const DOCTOR_OPTIONS = {
  token: { type: 'string' },
  'foreign-resource': { type: 'string' },
  'foreign-scope': { type: 'string' },
  'foreign-token': { type: 'string' },
  'expired-token': { type: 'string' },
  sarif: { type: 'string' },
} satisfies ParseArgsConfig['options'];

/** The option values the doctor reads (a subset of the CLI's parsed values). */
export interface DoctorValues {
  readonly token?: string | undefined;
  readonly 'protocol-era'?: string | undefined;
  readonly 'foreign-resource'?: string | undefined;
  readonly 'foreign-scope'?: string | undefined;
  readonly 'foreign-token'?: string | undefined;
  readonly 'expired-token'?: string | undefined;
  readonly sarif?: string | undefined;
  readonly login?: string | undefined;
  readonly 'login-driver'?: string | undefined;
  readonly 'client-id'?: string | undefined;
  readonly 'client-secret'?: string | undefined;
  readonly 'client-metadata-url'?: string | undefined;
  readonly scope?: string | undefined;
  readonly json?: boolean | undefined;
  readonly 'trace-out'?: string | undefined;
  readonly mermaid?: string | undefined;
  readonly har?: string | undefined;
}

/** Whether any export was asked for. */
export function wantsExport(t: ExportTargets): boolean {
  return t.traceOut !== undefined || t.mermaid !== undefined || t.har !== undefined;
}

/** The export targets of any command. */
export function exportTargets(values: DoctorValues): ExportTargets {
  return {
    ...(values['trace-out'] !== undefined ? { traceOut: values['trace-out'] } : {}),
    ...(values.mermaid !== undefined ? { mermaid: values.mermaid } : {}),
    ...(values.har !== undefined ? { har: values.har } : {}),
  };
}

/** Doctor-only options given to another command: the name of the first one, for a usage error. */
export function misplacedDoctorOption(values: Readonly<Record<string, unknown>>): string | undefined {
  return Object.keys(DOCTOR_OPTIONS).find((name) => values[name] !== undefined);
}

function absoluteUrl(text: string, what: string, usage: (message: string) => Error): string {
  if (!URL.canParse(text)) throw usage(`${what} is not an absolute URL: ${text}`);
  return text;
}

/** `doctor <url> [options]` as the command the doctor runs (color is the caller's). */
export function doctorArgs(serverUrl: string, more: readonly string[], values: DoctorValues, usage: (message: string) => Error): Omit<DoctorCommand, 'color'> {
  if (more.length) throw usage('doctor takes one URL');
  if (values.token !== undefined && values.login !== undefined) throw usage('--token and --login exclude each other');
  if (values.token !== undefined && values.token.trim() === '') throw usage('--token needs a token');
  const era = PROTOCOL_ERAS.find((e) => e === (values['protocol-era'] ?? 'auto'));
  if (era === undefined) throw usage(`--protocol-era must be one of ${PROTOCOL_ERAS.join(', ')}`);
  const driver = LOGIN_DRIVERS.find((d) => d === (values['login-driver'] ?? 'auto'));
  if (driver === undefined) throw usage(`--login-driver must be one of ${LOGIN_DRIVERS.join(', ')}`);
  if (values['client-secret'] !== undefined && values['client-id'] === undefined) throw usage('--client-secret needs --client-id');
  let login: DoctorCommand['login'];
  if (values.login !== undefined) {
    const i = values.login.indexOf(':');
    if (i <= 0) throw usage('--login must be user:password');
    login = { username: values.login.slice(0, i), password: values.login.slice(i + 1) };
  }
  const needsLogin = ['foreign-resource', 'foreign-scope'].find((o) => values[o as keyof DoctorValues] !== undefined);
  if (needsLogin && login === undefined) throw usage(`--${needsLogin} needs --login (the doctor asks the authorization server for that token)`);
  const scope = values.scope?.split(' ').filter(Boolean);
  const foreignScope = values['foreign-scope']?.split(' ').filter(Boolean);
  if (values['foreign-scope'] !== undefined && !foreignScope?.length) throw usage('--foreign-scope needs at least one scope');
  return {
    serverUrl,
    json: values.json === true,
    protocolEra: era,
    loginDriver: driver,
    ...(login ? { login } : {}),
    ...(values.token !== undefined ? { token: values.token } : {}),
    ...(values['client-id'] !== undefined ? { clientId: values['client-id'] } : {}),
    ...(values['client-secret'] !== undefined ? { clientSecret: values['client-secret'] } : {}),
    ...(values['client-metadata-url'] !== undefined ? { clientMetadataUrl: values['client-metadata-url'] } : {}),
    ...(scope?.length ? { scope } : {}),
    ...(values['foreign-resource'] !== undefined ? { foreignResource: absoluteUrl(values['foreign-resource'], '--foreign-resource', usage) } : {}),
    ...(foreignScope?.length ? { foreignScope } : {}),
    ...(values['foreign-token'] !== undefined ? { foreignToken: values['foreign-token'] } : {}),
    ...(values['expired-token'] !== undefined ? { expiredToken: values['expired-token'] } : {}),
    ...(values.sarif !== undefined ? { sarif: values.sarif } : {}),
    ...exportTargets(values),
  };
}

/** The doctor's help text. */
export const DOCTOR_USAGE = `Usage: mcp-lab-client doctor <url> [options]

Probes an MCP server and its authorization server and reports one verdict per check (pass, fail, warn,
not-applicable) with the evidence, the spec section and a one-line fix; docs/errors.md lists every check.
Exit code 0 only when no check fails. Needs nothing of the lab: any MCP server URL will do.

Options:
  --login user:password      log in (headless) to run the token checks with real tokens
  --login-driver NAME        auto (default), embedded, dex, keycloak
  --token T                  use this access token instead of logging in (-: read it from stdin)
  --client-id ID             a pre-registered client (with --client-secret for a confidential one)
  --client-metadata-url URL  this client's metadata document (CIMD client_id)
  --scope "a b"              scopes to request instead of the challenge's
  --foreign-resource URL     also ask for a token for this other resource (it must be refused here)
  --foreign-scope "a b"      also ask for a token with these scopes, whose audience is not this server
  --foreign-token T          a token the AS issued for another audience
  --expired-token T          an expired access token of this AS (the doctor mints nothing it cannot sign)
  --protocol-era ERA         the era to require: auto (default: either), modern (2026-07-28, server/discover)
                             or legacy (2025, initialize); both are probed and reported either way
  --json                     one JSON object per check on stdout
  --sarif FILE               write the results as SARIF 2.1.0
  --trace-out FILE           write the run as JSON lines
  --mermaid FILE             write a Mermaid sequence diagram of the run
  --har FILE                 write the HTTP exchanges as HAR 1.2 (credentials redacted)
  -h, --help                 this help
`;
