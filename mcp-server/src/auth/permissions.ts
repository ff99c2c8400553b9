/**
 * Maps a verified token's claims to the RS's permissions: OAuth scopes (RFC 8693 §4.2 `scope`, or `scp`),
 * or, for ASes that cannot mint custom scopes, the values of one claim looked up in a configured map.
 */
import type { JWTPayload } from 'jose';
import type { RsConfig } from '../config.ts';

function strings(v: unknown, split: boolean): string[] {
  if (typeof v === 'string') return split ? v.split(' ').filter(Boolean) : [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** The permissions a token grants, per `permissionsFrom` and `permissionMap`. */
export function permissionsOf(payload: JWTPayload, config: Pick<RsConfig, 'permissionsFrom' | 'permissionMap'>): string[] {
  const from = config.permissionsFrom;
  switch (from.kind) {
    case 'scope': {
      const scopes = payload.scope !== undefined ? strings(payload.scope, true) : strings(payload.scp, true);
      return [...new Set(scopes)];
    }
    case 'claim': {
      const values = new Set(strings(payload[from.claim], false));
      return Object.entries(config.permissionMap)
        .filter(([, accepted]) => accepted.includes('*') || accepted.some((a) => values.has(a)))
        .map(([perm]) => perm);
    }
  }
}

/** The required permissions the principal lacks. */
export function missingPermissions(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((r) => !granted.includes(r));
}
