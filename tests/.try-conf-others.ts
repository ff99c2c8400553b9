import { startDexLab } from './harness/stack-dex.ts';
import { startProfileLab } from './sdk-matrix-lab.ts';
import { runAuthorizationSuite } from './conformance-authorization.ts';
const dex = await startDexLab({ dexBin: process.env.DEX_BIN! });
try {
  const r = await runAuthorizationSuite({ issuer: dex.issuer, clientId: 'mcp-lab-cli', resource: `${dex.rsUrl}/mcp`, username: 'alice@example.com', password: 'alice-password', driver: 'dex', timeoutMs: 60_000 });
  console.log('=== DEX', r.code, r.output.slice(r.output.indexOf('=== Running')));
} finally { await dex.stop(); }
const kc = await startProfileLab('keycloak');
try {
  const r = await runAuthorizationSuite({ issuer: kc.lab.issuer, clientId: 'mcp-lab-cli', resource: `${kc.lab.rsUrl}/mcp`, username: 'alice', password: 'alice-password', driver: 'keycloak', timeoutMs: 60_000 });
  console.log('=== KEYCLOAK', r.code, r.output.slice(r.output.indexOf('=== Running')));
} finally { await kc.stop(); }
