/**
 * The page's static bundle: web/page/main.ts and everything it imports (the CLI's flow steps, oauth4webapi, the
 * MCP SDK client, mermaid) built by esbuild into browser ES modules, split into lazily loaded chunks, in memory.
 * Built from the sources at start, so the page served is always the page in the tree.
 */
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { PAGE_PATHS } from './page-config.ts';

export interface BundleFile {
  readonly contentType: string;
  readonly body: Uint8Array;
}

/** Bundle files by URL path (`/assets/main.js`, `/assets/chunk-….js`). */
export type Bundle = ReadonlyMap<string, BundleFile>;

const ENTRY = fileURLToPath(new URL('../page/main.ts', import.meta.url));

/** Builds the bundle; `minify` is off only to debug the page. */
export async function buildBundle(options: { minify?: boolean } = {}): Promise<Bundle> {
  const outdir = '/bundle';
  const result = await esbuild.build({
    entryPoints: { main: ENTRY },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  const files = new Map<string, BundleFile>();
  for (const f of result.outputFiles) {
    const name = f.path.slice(outdir.length + 1);
    files.set(`${PAGE_PATHS.assets}${name}`, { contentType: 'text/javascript; charset=utf-8', body: f.contents });
  }
  return files;
}
