/**
 * Debian's Chromium driven by playwright-core (no browser download: scripts/ensure-chromium.sh installs the
 * `chromium` package). Each launch gets a fresh profile directory, removed at close.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { LOGIN_FIELDS, type LoginDriverName } from '../../mcp-client/src/login/drivers.ts';

/** CHROMIUM_PATH wins; otherwise Debian's /usr/bin/chromium. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH || '/usr/bin/chromium';
}

export function findChromium(): { available: boolean; path: string; reason: string } {
  const path = chromiumPath();
  return { available: existsSync(path), path, reason: `no Chromium at ${path} (run scripts/ensure-chromium.sh)` };
}

export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] as const;

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with the lab's flags and a fresh --user-data-dir (playwright's persistent context). */
export async function launchChromium(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'mcp-lab-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath(),
      headless: true,
      args: [...CHROMIUM_FLAGS],
      viewport: { width: 1400, height: 1000 },
    });
    return {
      context,
      close: async () => {
        await context.close();
        rmSync(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
}

/** Signs in on the IdP's login form (the same field names as the CLI's headless login drivers). */
export async function signIn(page: Page, driver: Exclude<LoginDriverName, 'auto'>, username: string, password: string): Promise<void> {
  const fields = LOGIN_FIELDS[driver];
  const user = page.locator(`input[name="${fields.user}"]`);
  await user.waitFor({ timeout: 60_000 });
  await user.fill(username);
  const pw = page.locator(`input[name="${fields.password}"]`);
  await pw.fill(password);
  await pw.press('Enter');
}
