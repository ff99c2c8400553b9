/**
 * The client's persistent state: one JSON file in the store directory (dir 0700, file 0600; OAuth 2.1 §7.1 /
 * MCP Token Theft: tokens at rest are readable by the owner only). Tokens are keyed by (issuer, client_id,
 * resource); dynamic registrations by issuer (MCP Client Registration: Authorization Server Binding).
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { lock } from 'proper-lockfile';

export interface StoredTokens {
  readonly issuer: string;
  readonly client_id: string;
  readonly resource: string;
  readonly access_token: string;
  readonly token_type: string;
  readonly refresh_token?: string;
  /** Epoch milliseconds; absent when the server did not say. */
  readonly expires_at?: number;
  /** The scope the authorization server granted, when it said. */
  readonly scope?: string;
  /** Every scope the client asked for so far; the base of a step-up union. */
  readonly requested_scope: readonly string[];
}

export interface StoredRegistration {
  readonly issuer: string;
  readonly client_id: string;
  readonly client_secret?: string;
  readonly token_endpoint_auth_method: string;
  readonly redirect_uris: readonly string[];
  readonly registered_at: string;
}

/** Pre-registered clients a person configured by hand, per issuer (clients.json isn't written by the CLI). */
export interface ConfiguredClient {
  readonly client_id: string;
  readonly client_secret?: string;
}

interface StoreFile {
  version: 1;
  tokens: StoredTokens[];
  registrations: StoredRegistration[];
  clients?: Record<string, ConfiguredClient>;
}

export const STORE_FILE = 'store.json';

function empty(): StoreFile {
  return { version: 1, tokens: [], registrations: [] };
}

export interface TokenStoreOptions {
  /**
   * False turns the refresh lock off. Only the refresh-race test does that (MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK),
   * to show the race the lock prevents.
   */
  readonly refreshLock?: boolean;
}

/**
 * How long a refresh may wait for another process's: proper-lockfile retries with back-off (about 30 s in all);
 * a lock not touched for 15 s belongs to a process that died, and is taken over.
 */
const LOCK_OPTIONS = { realpath: false, stale: 15_000, update: 5_000, retries: { retries: 60, factor: 1.2, minTimeout: 50, maxTimeout: 500 } } as const;

/** File-backed store; each method reads and writes the whole file (tiny, and a CLI is short-lived). */
export class TokenStore {
  readonly dir: string;
  readonly file: string;
  readonly refreshLock: boolean;
  constructor(dir: string, opts: TokenStoreOptions = {}) {
    this.dir = dir;
    this.file = join(dir, STORE_FILE);
    this.refreshLock = opts.refreshLock !== false;
  }

  /**
   * Runs `fn` while holding the store's lock across processes (proper-lockfile: an atomic mkdir of
   * `store.json.lock`, refreshed while held, taken over when stale). Refresh runs under it: with single-use
   * refresh tokens (RFC 9700 §4.14.2) two processes refreshing with the same token would make the authorization
   * server see a reuse and revoke the whole family. The caller re-reads the store inside `fn`.
   */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.refreshLock) return fn();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const release = await lock(this.file, LOCK_OPTIONS);
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  async #read(): Promise<StoreFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty();
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<StoreFile>;
    return { version: 1, tokens: parsed.tokens ?? [], registrations: parsed.registrations ?? [], ...(parsed.clients ? { clients: parsed.clients } : {}) };
  }

  async #write(data: StoreFile): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    // Written to a private temp file and renamed, so a crash never leaves half a file or a world-readable one.
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.file);
  }

  async getTokens(issuer: string, clientId: string, resource: string): Promise<StoredTokens | undefined> {
    const data = await this.#read();
    return data.tokens.find((t) => t.issuer === issuer && t.client_id === clientId && t.resource === resource);
  }

  /** Every stored token issued for exactly this resource (canonical server URL), whichever issuer and client. */
  async getTokensForResource(resource: string): Promise<StoredTokens[]> {
    return (await this.#read()).tokens.filter((t) => t.resource === resource);
  }

  async putTokens(tokens: StoredTokens): Promise<void> {
    const data = await this.#read();
    data.tokens = data.tokens.filter(
      (t) => !(t.issuer === tokens.issuer && t.client_id === tokens.client_id && t.resource === tokens.resource),
    );
    data.tokens.push(tokens);
    await this.#write(data);
  }

  /** Forgets tokens: those for one resource, or all of them. Returns how many were forgotten. */
  async forgetTokens(resource?: string): Promise<number> {
    const data = await this.#read();
    const before = data.tokens.length;
    data.tokens = resource === undefined ? [] : data.tokens.filter((t) => t.resource !== resource);
    const removed = before - data.tokens.length;
    if (removed > 0) await this.#write(data);
    return removed;
  }

  async getRegistration(issuer: string): Promise<StoredRegistration | undefined> {
    return (await this.#read()).registrations.find((r) => r.issuer === issuer);
  }

  async putRegistration(reg: StoredRegistration): Promise<void> {
    const data = await this.#read();
    data.registrations = data.registrations.filter((r) => r.issuer !== reg.issuer);
    data.registrations.push(reg);
    await this.#write(data);
  }

  async forgetRegistration(issuer: string): Promise<void> {
    const data = await this.#read();
    data.registrations = data.registrations.filter((r) => r.issuer !== issuer);
    await this.#write(data);
  }

  /** A pre-registered client configured in the store file's `clients` map for this issuer. */
  async getConfiguredClient(issuer: string): Promise<ConfiguredClient | undefined> {
    return (await this.#read()).clients?.[issuer];
  }
}
