import { startProfileLab } from './sdk-matrix-lab.ts';
import { runAuthorizationSuite } from './conformance-authorization.ts';
for (const p of ['keycloak']) {
  const kc = await startProfileLab(p, { keycloakHome: process.env.KEYCLOAK_HOME! });
  try {
    const r = await runAuthorizationSuite({ issuer: kc.lab.issuer, clientId: 'mcp-lab-cli', resource: `${kc.lab.rsUrl}/mcp`, username: 'alice', password: 'alice-password', driver: 'keycloak', timeoutMs: 90_000 });
    console.log(`=== ${p}`, r.code, r.output.slice(r.output.indexOf('=== Running')));
  } finally { await kc.stop(); }
}
