/**
 * The `doctor` command behind the CLI's argument parser: picks the renderer, runs the doctor, writes SARIF and
 * the trace exports, and returns the exit code (0 only when no check failed). bin.ts parses, this runs.
 */
import { writeFile } from 'node:fs/promises';
import type { FetchLike } from '../http.ts';
import type { Sink } from '../render/json.ts';
import { CLIENT_VERSION, writeExports, type ExportTargets } from '../export/write.ts';
import { TraceRecorder } from '../export/trace.ts';
import type { ProtocolEra } from './context.ts';
import type { DoctorCredentials } from './credentials.ts';
import { doctorJsonObserver } from './render/json.ts';
import { doctorPrettyObserver, renderSummary } from './render/pretty.ts';
import { toSarif } from './render/sarif.ts';
import { doctorExitCode, runDoctor } from './run.ts';

export interface DoctorCommand extends DoctorCredentials, ExportTargets {
  readonly serverUrl: string;
  readonly json: boolean;
  readonly color: boolean;
  readonly sarif?: string;
  readonly protocolEra: ProtocolEra;
}

export async function doctorCommand(cmd: DoctorCommand, deps: { readonly sink: Sink; readonly fetch: FetchLike }): Promise<0 | 1> {
  const recorder = new TraceRecorder(cmd.serverUrl);
  const render = cmd.json ? doctorJsonObserver(deps.sink) : doctorPrettyObserver(deps.sink, { color: cmd.color });
  const report = await runDoctor({ ...cmd, fetch: deps.fetch, observer: recorder.doctor(render) });
  if (!cmd.json) deps.sink.out(renderSummary(report));
  if (cmd.sarif !== undefined) {
    await writeFile(cmd.sarif, `${JSON.stringify(toSarif(report, CLIENT_VERSION), null, 2)}\n`);
  }
  const written = await writeExports(recorder.trace(), cmd);
  for (const path of [...(cmd.sarif !== undefined ? [cmd.sarif] : []), ...written]) deps.sink.err(`wrote ${path}\n`);
  const code = doctorExitCode(report);
  if (code !== 0) {
    const failed = report.results.filter((r) => r.verdict === 'fail').map((r) => r.id);
    deps.sink.err(`error: ${failed.length} doctor check${failed.length === 1 ? '' : 's'} failed: ${failed.map((id) => `${id} (docs/errors.md#${id})`).join(', ')}\n`);
  }
  return code;
}
