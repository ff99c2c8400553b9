/**
 * Writes the exports a command asked for (`--trace-out`, `--mermaid`, `--har`) from one trace; the files get mode
 * 0600 like the token store, although nothing in them is a usable credential.
 */
import { writeFile } from 'node:fs/promises';
import { toHar } from './har.ts';
import { toMermaid } from './mermaid.ts';
import { toJsonLines, type Trace } from './trace.ts';

export interface ExportTargets {
  readonly traceOut?: string;
  readonly mermaid?: string;
  readonly har?: string;
}

/** The client's version as exporters name it (HAR creator, SARIF driver). */
export const CLIENT_VERSION = '0.1.0';

/** Writes each requested file; returns the paths written. */
export async function writeExports(trace: Trace, targets: ExportTargets): Promise<string[]> {
  const written: string[] = [];
  const write = async (path: string | undefined, text: string) => {
    if (path === undefined) return;
    await writeFile(path, text, { mode: 0o600 });
    written.push(path);
  };
  await write(targets.traceOut, toJsonLines(trace));
  await write(targets.mermaid, toMermaid(trace));
  await write(targets.har, `${JSON.stringify(toHar(trace, CLIENT_VERSION), null, 2)}\n`);
  return written;
}
