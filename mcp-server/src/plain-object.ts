/** Whether a parsed JSON value is an object (not null, not an array): the shape every JSON-RPC reader here checks. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
