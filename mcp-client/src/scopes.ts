/**
 * Scope selection (MCP Authorization: Scope Selection Strategy, Step-Up Authorization Flow, Refresh Tokens).
 */

export interface ScopeInput {
  /** `--scope`: the user's explicit choice wins. */
  readonly override?: readonly string[];
  /** The `scope` of the 401 challenge: authoritative for the current operation. */
  readonly challenge?: readonly string[];
  /** PRM `scopes_supported`. */
  readonly prmSupported?: readonly string[];
  /** Previously requested scopes (a step-up unions them with the challenge's). */
  readonly previous?: readonly string[];
}

export interface ScopeChoice {
  /** The resource scopes to request (offline_access not included). */
  readonly scopes: readonly string[];
  readonly source: 'option' | 'challenge' | 'scopes_supported' | 'none' | 'union';
}

/** Challenge scope, else PRM scopes_supported, else none; a step-up is the union with what was asked before. */
export function selectScopes(input: ScopeInput): ScopeChoice {
  if (input.override?.length) return { scopes: uniq(input.override), source: 'option' };
  if (input.previous?.length) {
    return { scopes: uniq([...input.previous.filter((s) => s !== 'offline_access'), ...(input.challenge ?? [])]), source: 'union' };
  }
  if (input.challenge?.length) return { scopes: uniq(input.challenge), source: 'challenge' };
  if (input.prmSupported?.length) return { scopes: uniq(input.prmSupported), source: 'scopes_supported' };
  return { scopes: [], source: 'none' };
}

/** Adds offline_access when the authorization server lists it in scopes_supported (MCP Refresh Tokens). */
export function withOfflineAccess(scopes: readonly string[], asSupported: readonly string[] | undefined): string[] {
  if (!asSupported?.includes('offline_access') || scopes.includes('offline_access')) return [...scopes];
  return [...scopes, 'offline_access'];
}

export function uniq(scopes: readonly string[]): string[] {
  return [...new Set(scopes)];
}
