/**
 * Runs the MCP conformance suite's `authorization` command (0.2.0 alpha line, the `conformance-next` alias)
 * against a real authorization server, completing the browser step of its authorization-code-grant scenario with
 * the test kit's login (the lab client's headless driver): the suite prints the authorization URL and waits for the redirect on its
 * own loopback callback server; the driver signs in and the redirect is delivered there.
 */
import { spawn } from 'node:child_process';
import { CONFORMANCE_CLI } from '@mcp-lab/test-kit/conformance';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { browserLogin, type LoginDriverName } from '@mcp-lab/test-kit/login';

export const SUITE_NEXT_CLI = CONFORMANCE_CLI.next;

export interface AuthorizationRun {
  readonly code: number | null;
  readonly output: string;
  /** The authorization URL the suite printed (undefined when it never got that far). */
  readonly authorizationUrl: string | undefined;
}

export interface AuthorizationRunOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly resource?: string;
  readonly username: string;
  readonly password: string;
  readonly driver: LoginDriverName;
  readonly timeoutMs?: number;
  /** The suite's --verbose (JSON results, with each failure's message). */
  readonly verbose?: boolean;
}

export async function runAuthorizationSuite(opts: AuthorizationRunOptions): Promise<AuthorizationRun> {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const args = [SUITE_NEXT_CLI, 'authorization', '--url', opts.issuer, '--client-id', opts.clientId, '--port', String(port)];
  if (opts.resource !== undefined) args.push('--resource', opts.resource);
  if (opts.verbose === true) args.push('--verbose');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let authorizationUrl: string | undefined;
  let login: Promise<void> | undefined;
  const onData = (d: Buffer) => {
    output += d.toString();
    if (login !== undefined) return;
    const line = output.split('\n').find((l) => l.startsWith('http') && l.includes('code_challenge='));
    if (line === undefined) return;
    authorizationUrl = line.trim();
    login = (async () => {
      const outcome = await browserLogin({ authorizationUrl: authorizationUrl!, redirectUri, username: opts.username, password: opts.password, driver: opts.driver });
      if (outcome.kind !== 'redirect') throw new Error(`no redirect back (HTTP ${outcome.status}: ${outcome.reason})`);
      const callback = outcome.location;
      // Deliver the authorization response to the suite's callback server, as the browser would.
      const res = await fetch(callback);
      await res.body?.cancel();
    })().catch((err: unknown) => {
      output += `\n[test] headless login failed: ${(err as Error).message}\n`;
      child.kill('SIGTERM');
    });
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? 90_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  clearTimeout(timer);
  await login;
  return { code, output, authorizationUrl };
}
