/** @mcp-lab/launcher: what `npm start`, the integration tests and the benchmarks start the lab with. */
export * from './profile.ts';
export * from './stack.ts';
export * from './children.ts';
export * from './free-port.ts';
export * from './provision.ts';
export * from './idp/dex.ts';
export * from './idp/embedded.ts';
export * from './idp/keycloak.ts';
export * from './idp/keycloak-realm.ts';
export * from './quirks.ts';
export * from './conformance.ts';
export * from './token-proxy.ts';
