#!/usr/bin/env node
/**
 * mcp-lab-client: walks the MCP authorization sequence step by step against an MCP server, then lists or calls
 * its tools. This file wires the parsed command line (src/cli/args.ts) to the flow and is the only place that
 * calls process.exit.
 */
import { spawn } from 'node:child_process';
import { UsageError, exitCodeOf, parseCliArgs, type CliRequest, type OutputArgs } from './src/cli/args.ts';
import { enableCliCompileCache } from './src/compile-cache.ts';
import { compileCacheDir, loadConfig, type ClientEnvConfig } from './src/config.ts';
import { FlowError } from './src/errors.ts';
import type { FlowObserver } from './src/events.ts';
import type { Sink } from './src/render/json.ts';

// Start-up is most of a CLI run: only the modules above (all small) are loaded before the command is known;
// the rest is imported when a command needs it (the MCP SDK only by the MCP steps, the login drivers only when
// logging in). V8's compile cache keeps the compiled code of those JavaScript modules between runs; a cache
// directory that cannot be made only means no cache.
enableCliCompileCache(compileCacheDir(process.env));

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

async function observerFor(output: OutputArgs, config: ClientEnvConfig): Promise<FlowObserver> {
  return output.json
    ? (await import('./src/render/json.ts')).jsonObserver(sink)
    : (await import('./src/render/pretty.ts')).prettyObserver(sink, { color: config.color });
}

/** All of stdin, trimmed (a token piped in). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

async function run(request: CliRequest, config: ClientEnvConfig): Promise<number> {
  switch (request.kind) {
    case 'help':
      sink.out(request.text);
      return request.exitCode;
    case 'conformance': {
      const { runConformance } = await import('./src/conformance.ts');
      const c = config.conformance as NonNullable<ClientEnvConfig['conformance']>;
      return runConformance({ serverUrl: request.serverUrl, scenario: c.scenario, context: c.context, sink });
    }
    case 'logout': {
      const observer = await observerFor(request.output, config);
      const [{ TokenStore }, { canonicalResource }] = await Promise.all([import('./src/store.ts'), import('@mcp-lab/protocol')]);
      const resource = request.url === undefined ? undefined : canonicalResource(request.url);
      const started = performance.now();
      const forgotten = await new TokenStore(request.output.store ?? config.storeDir).forgetTokens(resource);
      observer.step({ step: 'logout', status: 'ok', http: [], checks: [], ms: Math.round(performance.now() - started), data: { resource: resource ?? 'all', forgotten } });
      return 0;
    }
    case 'flow': {
      const rendered = await observerFor(request.output, config);
      const [{ TokenStore }, { runFlow }] = await Promise.all([import('./src/store.ts'), import('./src/flow.ts')]);
      const store = new TokenStore(request.output.store ?? config.storeDir, { refreshLock: !config.refreshLockOff });
      const exports = request.output.exports;
      // Only a run that exports records its events (the modules load only then).
      const recorder = exports ? new (await import('./src/export/trace.ts')).TraceRecorder(request.flow.serverUrl) : undefined;
      const observer = recorder ? recorder.flow(rendered) : rendered;
      const writeExports = async () => {
        if (!recorder || !exports) return;
        const { writeExports: write } = await import('./src/export/write.ts');
        for (const path of await write(recorder.trace(), exports)) sink.err(`wrote ${path}\n`);
      };
      try {
        await runFlow({ ...request.flow, store, fetch: globalThis.fetch, observer, openBrowser });
        await writeExports();
        return 0;
      } catch (err) {
        await writeExports();
        if (!(err instanceof FlowError)) throw err;
        sink.err(`error: ${err.step ? `step "${err.step}" failed: ` : ''}${err.message}\n`);
        if (err.hint) sink.err(`hint: ${err.hint}\n`);
        const { catalogLinkForFlowCheck } = await import('./src/doctor/flow-links.ts');
        const link = catalogLinkForFlowCheck(err.check?.name);
        if (link) sink.err(`see: ${link} (or run: mcp-lab-client doctor ${request.flow.serverUrl})\n`);
        return exitCodeOf(err);
      }
    }
    case 'doctor': {
      const { doctorCommand } = await import('./src/doctor/command.ts');
      // `--token -`: the token comes on stdin, so that it is not on the command line (visible to other users).
      const token = request.doctor.token === '-' ? await readStdin() : request.doctor.token;
      if (token === '') throw new UsageError('--token -: stdin held no token');
      return doctorCommand({ ...request.doctor, ...(token !== undefined ? { token } : {}), color: config.color }, { sink, fetch: globalThis.fetch });
    }
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const config = loadConfig(process.env, process.stdout.isTTY === true);
  return run(parseCliArgs(argv, { conformance: config.conformance !== undefined }), config);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const code = exitCodeOf(err);
    if (code === 2) process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\nRun "mcp-lab-client --help" for usage.\n`);
    else process.stderr.write(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(code);
  },
);
