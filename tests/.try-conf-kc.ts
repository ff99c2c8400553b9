import { startProfileLab } from './sdk-matrix-lab.ts';
import { runAuthorizationSuite } from './conformance-authorization.ts';
for (const p of ['keycloak', 'keycloak-resource-indicators']) {
  const kc = await startProfileLab(p);
  try {
    const r = await runAuthorizationSuite({ issuer: kc.lab.issuer, clientId: 'mcp-lab-cli', resource: `${kc.lab.rsUrl}/mcp`, username: 'alice', password: 'alice-password', driver: 'keycloak', timeoutMs: 60_000 });
    console.log(`=== ${p}`, r.code, r.output.slice(r.output.indexOf('=== SUMMARY')));
  } finally { await kc.stop(); }
}
