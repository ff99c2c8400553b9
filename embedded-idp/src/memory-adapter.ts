/**
 * oidc-provider's storage, in memory, owned by one IdP instance. oidc-provider's own fallback adapter is meant for
 * quick starts only (it warns so at every start): it keeps one LRU of 1000 entries shared by every provider in the
 * process, so under load or in a test process with several IdPs a grant, session or refresh token can be evicted
 * early. This one is a plain map per IdP whose entries live exactly as long as oidc-provider says (`expiresIn`), with
 * the indexes oidc-provider looks up (session `uid`, `userCode`, every artifact of a grant for `revokeByGrantId`).
 * Nothing survives a restart — documented lab behaviour.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  readonly payload: AdapterPayload;
  /** Epoch ms; Infinity when oidc-provider gave no lifetime. */
  readonly expiresAt: number;
}

/** The storage of one IdP: what `adapter` in oidc-provider's configuration gets (a constructor per model name). */
export function createMemoryAdapter(now: () => number = Date.now): new (model: string) => Adapter {
  const entries = new Map<string, Entry>();
  const byUid = new Map<string, string>();
  const byUserCode = new Map<string, string>();
  /** grantId → keys of the artifacts issued under it. */
  const byGrant = new Map<string, Set<string>>();

  const live = (key: string): AdapterPayload | undefined => {
    const e = entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return e.payload;
  };

  return class MemoryAdapter implements Adapter {
    readonly #model: string;
    constructor(model: string) {
      this.#model = model;
    }

    #key(id: string): string {
      return `${this.#model}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = this.#key(id);
      entries.set(key, { payload, expiresAt: typeof expiresIn === 'number' && expiresIn > 0 ? now() + expiresIn * 1000 : Infinity });
      if (this.#model === 'Session' && payload.uid !== undefined) byUid.set(payload.uid, id);
      if (payload.userCode !== undefined) byUserCode.set(payload.userCode, id);
      if (payload.grantId !== undefined) {
        const keys = byGrant.get(payload.grantId) ?? new Set<string>();
        keys.add(key);
        byGrant.set(payload.grantId, keys);
      }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return live(this.#key(id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = byUid.get(uid);
      return id === undefined ? undefined : live(this.#key(id));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = byUserCode.get(userCode);
      return id === undefined ? undefined : live(this.#key(id));
    }

    async consume(id: string): Promise<void> {
      const payload = live(this.#key(id));
      if (payload !== undefined) payload.consumed = Math.floor(now() / 1000);
    }

    async destroy(id: string): Promise<void> {
      const key = this.#key(id);
      const payload = entries.get(key)?.payload;
      entries.delete(key);
      if (payload?.uid !== undefined && byUid.get(payload.uid) === id) byUid.delete(payload.uid);
      if (payload?.userCode !== undefined && byUserCode.get(payload.userCode) === id) byUserCode.delete(payload.userCode);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      for (const key of byGrant.get(grantId) ?? []) entries.delete(key);
      byGrant.delete(grantId);
    }
  };
}
