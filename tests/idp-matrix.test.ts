/**
 * Swapping the IdP is configuration only: the same test, the same launcher (@mcp-lab/launcher, launcher/src/stack.ts) and the same CLI
 * (`mcp-lab-client --json` as a subprocess) run once per profile in profiles/; nothing but the profile differs.
 *
 * - positive matrix: the full MCP authorization sequence (probe → PRM → AS metadata → authorize → callback → token →
 *   initialize → tools/call) signs users[0] in, whoami names the lab's issuer, a note she adds is listed, and users[1]
 *   (own token store) does not see it;
 * - negative matrix: a token from IdP A, accepted by A's resource server, is refused by an RS configured with profile
 *   B with 401 `invalid_token` (RFC 6750 §3.1), for every ordered pair A ≠ B.
 *
 * Each lab starts once for the whole file (Keycloak alone takes 15-60 s); all start together in beforeAll.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChallenge, insertWellKnown, parseWwwAuthenticate, type Challenge } from '@mcp-lab/protocol';
import type { StoredTokens } from '../mcp-client/src/store.ts';
import {
  captureSink,
  loadProfile,
  type Profile,
  type ProfileUser,
  startLab,
  type Lab,
} from '@mcp-lab/launcher';
import { LAB_PROFILES, provisionedLabs, type LabProfileName } from './provisioned.ts';
import { runCli, type CliRun } from '@mcp-lab/test-kit/cli';
import { INIT_BODY, MCP_HEADERS } from '@mcp-lab/test-kit/mcp-messages';


type ProfileName = LabProfileName;
const PROVISIONED = provisionedLabs();
const READY = PROVISIONED.ready;

/** The steps every first sign-in walks through, in this order (registration and tools-list sit in between). */
const SEQUENCE = ['probe', 'resource-metadata', 'as-metadata', 'authorize', 'callback', 'token', 'initialize', 'tools-call'];

const INITIALIZE = JSON.stringify(INIT_BODY);

// ---------------------------------------------------------------------------------------------------------------
// Labs: one per profile, started once, on free ports, with their output kept for failure messages.

const sinks = new Map<ProfileName, ReturnType<typeof captureSink>>();
const starting = new Map<ProfileName, Promise<Lab>>();

function labFor(name: ProfileName): Promise<Lab> {
  let lab = starting.get(name);
  if (lab === undefined) {
    const sink = captureSink();
    sinks.set(name, sink);
    lab = startLab(loadProfile(name), {
      rsEnv: PROVISIONED.rsEnv,
      ...PROVISIONED.paths,
      log: sink.stream,
    });
    starting.set(name, lab);
  }
  return lab;
}

/** The lab, or an error carrying everything its processes wrote. */
async function labOrExplain(name: ProfileName): Promise<Lab> {
  try {
    return await labFor(name);
  } catch (err) {
    throw new Error(`the ${name} lab did not start: ${(err as Error).message}\n--- output ---\n${sinks.get(name)?.text() ?? ''}`, {
      cause: err,
    });
  }
}

const stores: string[] = [];

beforeAll(async () => {
  // Start every available lab at once; each describe below awaits (and reports) its own.
  const all = PROVISIONED.profiles.map((n) => labFor(n).then(() => undefined, (err: unknown) => err));
  await Promise.all(all);
}, 300_000);

afterAll(async () => {
  const labs = await Promise.allSettled(starting.values());
  await Promise.all(labs.map((l) => (l.status === 'fulfilled' ? l.value.stop() : undefined)));
  await Promise.all(stores.map((dir) => rm(dir, { recursive: true, force: true })));
}, 60_000);

async function newStore(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-lab-matrix-'));
  stores.push(dir);
  return dir;
}

// ---------------------------------------------------------------------------------------------------------------
// The CLI as a subprocess.

const cli = (args: readonly string[]): Promise<CliRun> => runCli(args);

/** `connect <rs>/mcp --call tool` as `user`, with the profile's client options and its own token store. */
async function connect(lab: Lab, user: ProfileUser, store: string, tool: string, args?: unknown): Promise<CliRun> {
  const run = await cli([
    'connect',
    `${lab.rsUrl}/mcp`,
    ...lab.clientArgs,
    '--login',
    `${user.username}:${user.password}`,
    '--store',
    store,
    '--call',
    tool,
    ...(args === undefined ? [] : ['--args', JSON.stringify(args)]),
  ]);
  expect(run.code, `${tool} as ${user.username} failed:\n${run.stderr}`).toBe(0);
  return run;
}

/** The JSON a successful tools/call returned as its text content. */
function toolResult<T>(run: CliRun): T {
  const call = run.events.findLast((e) => e.step === 'tools-call' && e.status === 'ok');
  const content = call?.data.content as { type: string; text: string }[] | undefined;
  if (content?.[0]?.type !== 'text') throw new Error(`no text result in:\n${run.stdout}`);
  return JSON.parse(content[0].text) as T;
}

/**
 * The longest prefix of `wanted` that occurs in `steps` in order (other steps, and a failed step the client recovered
 * from, e.g. an IdP refusing offline_access and an authorization without it, may sit in between).
 */
function inOrder(steps: readonly string[], wanted: readonly string[]): string[] {
  const found: string[] = [];
  for (const s of steps) if (s === wanted[found.length]) found.push(s);
  return found;
}

function userOf(profile: Profile, i: number): ProfileUser {
  const user = profile.login.users[i];
  if (user === undefined) throw new Error(`profile ${profile.name} needs at least ${i + 1} users`);
  return user;
}

/** Where a client following the MCP discovery order finds this profile's AS metadata first. */
function expectedMetadataUrl(profile: Profile, issuer: string): string {
  // rfc8414: the IdP serves it; static-rfc8414: authz-metadata serves it on the IdP's public origin (Dex has none).
  return profile.metadata === 'oidc' ? insertWellKnown(issuer, 'openid-configuration') : insertWellKnown(issuer, 'oauth-authorization-server');
}

// ---------------------------------------------------------------------------------------------------------------

describe.each(PROVISIONED.profiles)('the %s profile, swapped in by configuration only', (name) => {
  let lab: Lab;
  let profile: Profile;

  beforeAll(async () => {
    lab = await labOrExplain(name);
    profile = lab.profile;
  }, 300_000);

  it('signs users[0] in with the full sequence; whoami names the issuer; her note is listed', { timeout: 180_000 }, async () => {
    const alice = userOf(profile, 0);
    const store = await newStore();

    const who = await connect(lab, alice, store, 'whoami');
    expect(inOrder(who.steps, SEQUENCE)).toEqual(SEQUENCE);
    expect(who.steps.at(-1)).toBe('tools-call');
    expect(who.events.find((e) => e.step === 'registration')?.data.method).toBe(profile.registration.method);
    const asMetadata = who.events.find((e) => e.step === 'as-metadata');
    // The first location tried is the one that answered: no fallback was needed.
    expect(asMetadata?.http[0]).toMatchObject({ method: 'GET', url: expectedMetadataUrl(profile, lab.issuer), status: 200 });
    expect(asMetadata?.checks).toContainEqual(
      expect.objectContaining({ name: 'authorization server metadata found', ok: true, detail: expectedMetadataUrl(profile, lab.issuer) }),
    );
    const identity = toolResult<{ iss: string; sub: string; permissions: string[] }>(who);
    expect(identity.iss).toBe(lab.issuer);
    expect(identity.sub).toEqual(expect.any(String));
    expect(identity.permissions).toContain('notes:read');

    const text = `${name} note ${randomBytes(4).toString('hex')}`;
    const added = await connect(lab, alice, store, 'notes_add', { text });
    expect(toolResult<{ text: string }>(added)).toMatchObject({ text });
    const listed = await connect(lab, alice, store, 'notes_list');
    expect(toolResult<{ text: string }[]>(listed).map((n) => n.text)).toContain(text);
  });

  it("users[1], signed in with a token store of their own, does not see users[0]'s note", { timeout: 180_000 }, async () => {
    const text = `private ${name} note ${randomBytes(4).toString('hex')}`;
    await connect(lab, userOf(profile, 0), await newStore(), 'notes_add', { text });

    const bob = userOf(profile, 1);
    const list = await connect(lab, bob, await newStore(), 'notes_list');
    expect(list.steps).toContain('authorize');
    const notes = toolResult<{ text: string }[]>(list);
    expect(Array.isArray(notes)).toBe(true);
    expect(notes.map((n) => n.text)).not.toContain(text);
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** POSTs an initialize to `<rs>/mcp` with a bearer token; returns the status and the Bearer challenge, if any. */
async function initializeWith(rsUrl: string, token: string): Promise<{ status: number; challenge: Challenge | undefined }> {
  const res = await fetch(`${rsUrl}/mcp`, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` },
    body: INITIALIZE,
  });
  await res.body?.cancel();
  const header = res.headers.get('www-authenticate');
  return { status: res.status, challenge: header === null ? undefined : findChallenge(parseWwwAuthenticate(header), 'Bearer') };
}

/** users[0]'s access token for the lab's `/mcp`, as the CLI stored it after a sign-in (mcp-client/src/store.ts). */
async function cliAccessToken(lab: Lab): Promise<string> {
  const store = await newStore();
  await connect(lab, userOf(lab.profile, 0), store, 'whoami');
  const file = JSON.parse(await readFile(join(store, 'store.json'), 'utf8')) as { tokens: StoredTokens[] };
  const entry = file.tokens.find((t) => t.issuer === lab.issuer && t.resource === `${lab.rsUrl}/mcp`);
  if (entry === undefined) throw new Error(`no token for ${lab.rsUrl}/mcp in the CLI's store`);
  return entry.access_token;
}

const PAIRS = LAB_PROFILES.flatMap((a) => LAB_PROFILES.filter((b) => b !== a).map((b) => [a, b] as const));

describe('a token from one IdP is refused by an RS configured with another profile', () => {
  const tokens = new Map<ProfileName, string>();

  beforeAll(async () => {
    for (const name of PROVISIONED.profiles) tokens.set(name, await cliAccessToken(await labOrExplain(name)));
  }, 400_000);

  for (const [from, to] of PAIRS) {
    it.runIf(READY[from] && READY[to])(`a ${from} token at the ${to} RS: 401 invalid_token`, async () => {
      const [issuing, refusing] = [await labFor(from), await labFor(to)];
      const token = tokens.get(from);
      if (token === undefined) throw new Error(`no ${from} token`);

      // The token is good where it belongs, so the refusal below is about the other RS's configuration.
      expect((await initializeWith(issuing.rsUrl, token)).status).toBe(200);

      const refused = await initializeWith(refusing.rsUrl, token);
      expect(refused.status).toBe(401);
      expect(refused.challenge?.params).toMatchObject({
        error: 'invalid_token',
        resource_metadata: `${refusing.rsUrl}/.well-known/oauth-protected-resource/mcp`,
      });
    });
  }
});
