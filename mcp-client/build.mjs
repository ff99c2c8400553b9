#!/usr/bin/env node
// Builds dist/: bin.ts and everything it imports (the lab's TypeScript and the npm dependencies) bundled with
// esbuild into plain JavaScript, the commands' modules split into lazily loaded chunks as in the source. bin.mjs
// runs it instead of bin.ts when it is up to date, which saves most of the start-up: Node strips the types of
// ~30 files and resolves ~300 modules on every run otherwise. dist/inputs.json lists every input file with its
// size and mtime; a change to any of them (an edit, an npm install) makes bin.mjs go back to bin.ts.
// Plain JavaScript, run by `npm run build -w mcp-lab-client` and by the `prepare` script at `npm install`, which
// passes --if-possible: there a failed build leaves no dist/ (so the CLI runs from source) instead of failing the install.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, 'dist');

const ifPossible = process.argv.includes('--if-possible');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  // A production install without devDependencies: bin.mjs runs bin.ts, as without a build.
  process.stderr.write(`mcp-lab-client: no bundle built (esbuild unavailable: ${err.message}); the CLI runs from source\n`);
  process.exit(0);
}

rmSync(outdir, { recursive: true, force: true });
let result;
try {
  result = await esbuild.build({
    entryPoints: { cli: join(here, 'bin.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    outExtension: { '.js': '.mjs' },
    // CommonJS dependencies (ajv) call require; an ES module has none.
    banner: { js: "import { createRequire as __mcpLabCreateRequire } from 'node:module'; const require = __mcpLabCreateRequire(import.meta.url);" },
    metafile: true,
    absWorkingDir: here,
    logLevel: 'warning',
  });
} catch (err) {
  rmSync(outdir, { recursive: true, force: true });
  if (!ifPossible) throw err;
  process.stderr.write(`mcp-lab-client: no bundle built (${err.message.split('\n')[0]}); the CLI runs from source\n`);
  process.exit(0);
}
const inputs = Object.keys(result.metafile.inputs).map((file) => {
  const abs = resolve(here, file);
  const st = statSync(abs);
  return [relative(here, abs), st.size, st.mtimeMs];
});
mkdirSync(outdir, { recursive: true });
writeFileSync(join(outdir, 'inputs.json'), `${JSON.stringify({ node: process.versions.node, inputs })}\n`);
process.stderr.write(`mcp-lab-client: built dist/cli.mjs from ${inputs.length} files\n`);
