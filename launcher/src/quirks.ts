/**
 * Quirks in the lab: which are on (the profile's `quirks`, `--quirk`, $MCP_LAB_QUIRKS) and the fault-injecting
 * layer (authz-metadata with AUTHZ_METADATA_QUIRKS) started in front of the AS or the RS to apply them. The names
 * and what each does come from the one catalogue, @mcp-lab/authz-metadata's quirks/catalogue.ts.
 */
import { QUIRKS, QUIRK_FAMILIES_PATH, quirksOf, type QuirkName } from '@mcp-lab/authz-metadata/quirks';
import { startService, type Service } from './children.ts';
import { repoPath } from './repo.ts';

export { QUIRKS, QUIRK_FAMILIES_PATH, QUIRK_NAMES, parseQuirkList, quirkInfo, quirksOf, type QuirkName } from '@mcp-lab/authz-metadata/quirks';

/** The quirks of a profile and of the command line together, each once, in catalogue order. */
export function labQuirks(fromProfile: readonly QuirkName[] | undefined, extra: readonly QuirkName[] | undefined): QuirkName[] {
  const all = [...(fromProfile ?? []), ...(extra ?? [])];
  return [...quirksOf('as', all), ...quirksOf('rs', all)];
}

export interface QuirkFrontOptions {
  /** `as` or `rs`: named in the log prefix. */
  readonly layer: 'as' | 'rs';
  readonly publicPort: number;
  /** The origin it fronts, on loopback. */
  readonly upstream: string;
  /** The issuer of the AS (for an RS front: the issuer the RS trusts; unused by RS quirks). */
  readonly issuer: string;
  readonly quirks: readonly QuirkName[];
  readonly log: NodeJS.WritableStream;
}

/** Starts authz-metadata as a pure proxy with quirks in front of `upstream`; resolves once it answers. */
export function startQuirkFront(opts: QuirkFrontOptions): Promise<Service> {
  const origin = `http://127.0.0.1:${opts.publicPort}`;
  return startService(
    {
      name: `quirks-${opts.layer}`,
      command: process.execPath,
      args: [repoPath('authz-metadata/src/main.ts')],
      env: {
        AUTHZ_METADATA_HOST: '127.0.0.1',
        AUTHZ_METADATA_PORT: String(opts.publicPort),
        AUTHZ_METADATA_UPSTREAM: opts.upstream,
        AUTHZ_METADATA_ISSUER: opts.issuer,
        AUTHZ_METADATA_ENABLED: 'false',
        AUTHZ_METADATA_QUIRKS: opts.quirks.join(','),
        AUTHZ_METADATA_LOG_LEVEL: process.env.AUTHZ_METADATA_LOG_LEVEL ?? 'warn',
      },
      readyUrl: `${origin}${QUIRK_FAMILIES_PATH}`,
    },
    opts.log,
  );
}

/** The `--list-quirks` table: name, layer, what it imitates, what a correct client does. */
export function formatQuirkList(): string {
  const width = Math.max(...QUIRKS.map((q) => q.name.length));
  const pad = ' '.repeat(width + 6);
  const lines = (q: (typeof QUIRKS)[number]): string[] => [
    `${q.name.padEnd(width)}  ${q.layer}  ${q.imitates}`,
    `${pad}correct client: ${q.correctClient}`,
    `${pad}mcp-lab-client: ${q.ourCli}`,
    `${pad}doctor:         ${q.doctorChecks.length ? q.doctorChecks.join(', ') : '(not visible from outside a flow)'}`,
  ];
  return `${QUIRKS.flatMap(lines).join('\n')}\n`;
}


/**
 * The README's quirks table, rendered from the catalogue (launcher/test/quirks.test.ts checks the README holds it
 * verbatim): name, layer, what it imitates, what a correct client does, what the CLI prints, the doctor checks
 * linked to the error catalog.
 */
export function quirkMarkdownTable(): string {
  const cell = (t: string): string => t.replaceAll('|', '\\|');
  const head = ['| Quirk | Layer | Imitates | A correct client | mcp-lab-client | doctor (error catalog) |', '| --- | --- | --- | --- | --- | --- |'];
  const rows = QUIRKS.map((q) => {
    const doctor = q.doctorChecks.length ? q.doctorChecks.map((c) => `[${c}](docs/errors.md#${c})`).join(', ') : '—';
    return `| \`${q.name}\` | ${q.layer.toUpperCase()} | ${cell(q.imitates)} | ${cell(q.correctClient)} | ${cell(q.ourCli)} | ${doctor} |`;
  });
  return [...head, ...rows].join('\n');
}
