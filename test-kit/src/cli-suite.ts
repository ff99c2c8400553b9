/**
 * A suite of CLI runs against the real embedded lab: registers vitest hooks that start the embedded IdP and RS once
 * for the file and give every test a fresh token store, and runs `mcp-lab-client … --json --store <that store>`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { runCli, type CliRun } from './cli.ts';
import { startEmbeddedStack, type EmbeddedStack } from './stack-embedded.ts';

export interface CliSuite {
  /** The embedded IdP's issuer (from the first test on). */
  readonly issuer: string;
  /** The RS origin (MCP at `/mcp`, legacy SSE at `/sse`). */
  readonly rsOrigin: string;
  /** This test's token store directory. */
  readonly store: string;
  /** Runs the CLI with this test's store. */
  cli(...args: string[]): Promise<CliRun>;
}

/** Call at the top of a test file; `storePrefix` names the temporary store directories. */
export function embeddedCliSuite(storePrefix: string): CliSuite {
  let stack: EmbeddedStack | undefined;
  let store: string | undefined;
  beforeAll(async () => {
    stack = await startEmbeddedStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });
  beforeEach(async () => {
    store = await mkdtemp(join(tmpdir(), storePrefix));
  });
  afterEach(async () => {
    if (store !== undefined) await rm(store, { recursive: true, force: true });
  });
  const started = (): EmbeddedStack => {
    if (stack === undefined) throw new Error('the embedded lab is not started yet (use the suite inside a test)');
    return stack;
  };
  return {
    get issuer() {
      return started().idpIssuer;
    },
    get rsOrigin() {
      return started().rsUrl;
    },
    get store() {
      if (store === undefined) throw new Error('no store outside a test');
      return store;
    },
    cli: (...args) => runCli([...args, '--store', store ?? '']),
  };
}
