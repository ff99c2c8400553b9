import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { provisionWithProgress } from '../src/provision.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcp-lab-provision-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `set -eu\n${body}\n`);
  return path;
}

async function run(path: string, heartbeatMs = 20_000) {
  const out = new PassThrough();
  let text = '';
  out.setEncoding('utf8').on('data', (d: string) => (text += d));
  const result = await provisionWithProgress(path, { label: 'Tool', firstRun: 'builds the tool, 2 min', out, heartbeatMs });
  return { result, text };
}

describe('provisionWithProgress', () => {
  it('returns the path a warm script prints and says nothing', async () => {
    const { result, text } = await run(script('warm.sh', 'echo /cache/tool'));
    expect(result).toEqual({ available: true, path: '/cache/tool' });
    expect(text).toBe('');
  });

  it('announces a slow first run, forwards its lines, keeps saying it is working and ends with the time taken', async () => {
    const slow = script('slow.sh', 'echo "ensure-tool: building" >&2\nsleep 1.6\necho /cache/tool');
    const { result, text } = await run(slow, 500);
    expect(result).toEqual({ available: true, path: '/cache/tool' });
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('provision: [Tool] not cached yet; first run builds the tool, 2 min');
    expect(lines).toContain('provision: [Tool] ensure-tool: building');
    expect(lines.some((l) => /^provision: \[Tool\] still working \(\d+ s\)$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^provision: \[Tool\] ready in \d+ s: \/cache\/tool$/);
  });

  it('reports a failure by the last line the script wrote, quietly when it fails at once', async () => {
    const failing = script('fail.sh', 'echo "go: downloading a" >&2\necho "ensure-tool: Go is not installed" >&2\nexit 1');
    const { result, text } = await run(failing);
    expect(result).toEqual({ available: false, reason: 'ensure-tool: Go is not installed' });
    expect(text).toBe('');
  });

  it('names the exit status when a script fails without a word', async () => {
    const { result } = await run(script('mute.sh', 'exit 3'));
    expect(result).toEqual({ available: false, reason: `${join(dir, 'mute.sh')} exited with 3` });
  });
});
