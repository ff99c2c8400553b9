export const REDIRECT_URI = 'http://127.0.0.1:61234/callback';
export const RESOURCE = 'http://127.0.0.1:3000/mcp';

/** An authorization request URL with the given parameters (undefined values are left out). */
export function authorizeUrl(issuer: string, params: Record<string, string | undefined>): URL {
  const url = new URL('/auth', issuer);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}
