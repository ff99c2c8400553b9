/**
 * `npm start`: the lab on loopback with fixed ports — an IdP chosen by profile (embedded by default) and the MCP
 * resource server configured for it. Ctrl-C stops everything.
 *
 *   npm start                      embedded IdP (oidc-provider) on :4000, RS on :3000
 *   npm start -- --idp dex         Dex behind authz-metadata on :5556 (npm run lab:dex)
 *   npm start -- --idp keycloak    Keycloak on :8080 (after scripts/ensure-keycloak.sh)
 *   npm start -- --profile my-idp.json
 *   npm start -- --conformance     + a token-injecting loopback proxy for the official `conformance server` suite
 *   npm start -- --quirk no-iss,short-token-ttl   a fault-injecting layer in front of the AS / RS
 *   npm start -- --list-quirks
 */
import { parseArgs } from 'node:util';
import { startConformanceLab } from './conformance.ts';
import { loadProfile } from './profile.ts';
import { formatQuirkList, parseQuirkList } from './quirks.ts';
import { startLab, type Lab } from './stack.ts';

const USAGE = `usage: npm start -- [--idp embedded|dex|keycloak] [--profile FILE] [--rs-port 3000] [--idp-port N] [--conformance]
  --idp NAME       a profile from profiles/ (default: $MCP_LAB_PROFILE or embedded)
  --profile FILE   a profile file of your own (see profiles/README.md)
  --rs-port N      the resource server's port (default 3000)
  --idp-port N     the IdP's port (default: the profile's)
  --web-port N     the browser client's port (default 3100)
  --conformance    also start a loopback proxy that adds a real access token to every request, for the
                   official \`conformance server\` suite (which connects without credentials); embedded IdP only
  --quirk A[,B]    reproduce IdP / proxy quirks (default: $MCP_LAB_QUIRKS); added to the profile's "quirks"
  --list-quirks    list the quirks: name, layer, what it imitates, what a correct client does`;

function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name} must be a TCP port, got ${value}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      idp: { type: 'string' },
      profile: { type: 'string' },
      'rs-port': { type: 'string' },
      'idp-port': { type: 'string' },
      conformance: { type: 'boolean' },
      'web-port': { type: 'string' },
      quirk: { type: 'string', multiple: true },
      'list-quirks': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values['list-quirks']) {
    process.stdout.write(formatQuirkList());
    return 0;
  }
  const quirks = parseQuirkList((values.quirk ?? [process.env.MCP_LAB_QUIRKS ?? '']).join(','));
  const profile = loadProfile(values.profile ?? values.idp ?? process.env.MCP_LAB_PROFILE ?? 'embedded');
  const rsPort = port(values['rs-port'], '--rs-port') ?? 3000;
  const idpPort = port(values['idp-port'], '--idp-port') ?? profile.idp.port;
  const webPort = port(values['web-port'], '--web-port') ?? 3100;
  process.stderr.write(`starting the ${profile.name} lab: ${profile.description}\n`);
  const labOptions = { rsPort, webPort, ...(idpPort ? { idpPort } : {}), quirks, log: process.stderr };
  if (values.conformance) {
    const lab = await startConformanceLab(profile, labOptions);
    process.stdout.write(
      [
        '',
        `  Conformance front (adds a token for ${profile.login.users[0]?.username}) ${lab.frontUrl}/mcp`,
        `  MCP (the RS itself, authenticating as always)        ${lab.rsUrl}/mcp`,
        '',
        '  Run the suite (another terminal):',
        `    node node_modules/conformance-next/dist/index.js server --url ${lab.frontUrl}/mcp --requirements 2026-07-28`,
        `    node node_modules/conformance-next/dist/index.js server --url ${lab.frontUrl}/mcp --requirements 2025-11-25`,
        '',
        '  Ctrl-C stops the lab.',
        '',
      ].join('\n'),
    );
    await stopOnSignal(lab);
    return 0;
  }
  const lab: Lab = await startLab(profile, labOptions);
  const user = profile.login.users[0];
  const login = user ? ` --login ${user.username}:${user.password}` : '';
  process.stdout.write(
    [
      '',
      `  IdP issuer       ${lab.issuer}`,
      `  MCP (Streamable) ${lab.rsUrl}/mcp`,
      `  MCP (HTTP+SSE)   ${lab.rsUrl}/sse`,
      `  Resource metadata ${lab.rsUrl}/.well-known/oauth-protected-resource/mcp`,
      ...(lab.quirks.length ? [`  Quirks           ${lab.quirks.join(', ')} (npm start -- --list-quirks)`] : []),
      ...profile.login.users.map((u) => `  user             ${u.username} / ${u.password}`),
      `  Browser client   ${lab.webUrl} (the sequence drawn live; cookie SSE and bearer Streamable HTTP)`,
      '',
      '  Walk the authorization sequence (another terminal):',
      `    npx mcp-lab-client connect ${lab.rsUrl}/mcp ${lab.clientArgs.join(' ')}${login}`,
      `    npx mcp-lab-client connect ${lab.rsUrl}/sse --transport sse --cookie ${lab.clientArgs.join(' ')}${login}`,
      '',
      '  Diagnose the server and its authorization server:',
      `    npx mcp-lab-client doctor ${lab.rsUrl}/mcp ${lab.doctorArgs.join(' ')}${login}`,
      '',
      '  Ctrl-C stops the lab.',
      '',
    ].join('\n'),
  );
  await stopOnSignal(lab);
  return 0;
}

/** Waits for Ctrl-C or SIGTERM, then stops the lab. */
async function stopOnSignal(lab: { stop(): Promise<void> }): Promise<void> {
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stderr.write('stopping…\n');
  await lab.stop();
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
