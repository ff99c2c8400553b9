import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../src/doctor/check.ts';
import { transportModule } from '../src/doctor/checks/transport.ts';
import { createDoctorContext, type HostProbe } from '../src/doctor/context.ts';
import { CHECK_DEFINITIONS } from '../src/doctor/registry.ts';
import { doctorExitCode, runDoctor, type DoctorOptions, type DoctorReport } from '../src/doctor/run.ts';
import type { StepEvent } from '../src/events.ts';
import { BROKEN_SERVERS, FOREIGN, MCP, doctorLab, type Defect, type DoctorLabOptions } from './doctor-lab.ts';

interface Run {
  readonly report: DoctorReport;
  readonly steps: StepEvent[];
  readonly warnings: string[];
  verdict(id: string): CheckResult['verdict'] | undefined;
  result(id: string): CheckResult;
  failed(): string[];
  warned(): string[];
}

/** Runs the doctor against a fake lab, logged in through the lab's user agent (with a second audience). */
async function doctor(labOpts: DoctorLabOptions = {}, extra: (lab: Awaited<ReturnType<typeof doctorLab>>) => Promise<Partial<DoctorOptions>> = async (lab) => ({ userAgent: lab.userAgent(), foreignResource: FOREIGN, expiredToken: await lab.mint(MCP, -600) })): Promise<Run> {
  const lab = await doctorLab(labOpts);
  const steps: StepEvent[] = [];
  const warnings: string[] = [];
  const report = await runDoctor({
    serverUrl: MCP,
    fetch: lab.net.fetch,
    observer: { check: () => undefined, step: (e) => steps.push(e), diagnostic: (d) => void (d.level === 'warn' && warnings.push(d.message)) },
    ...(await extra(lab)),
  });
  const find = (id: string) => report.results.find((r) => r.id === id);
  return {
    report,
    steps,
    warnings,
    verdict: (id) => find(id)?.verdict,
    result: (id) => {
      const r = find(id);
      if (!r) throw new Error(`no result for ${id}`);
      return r;
    },
    failed: () => report.results.filter((r) => r.verdict === 'fail').map((r) => r.id),
    warned: () => report.results.filter((r) => r.verdict === 'warn').map((r) => r.id),
  };
}

describe('doctor against a healthy server', () => {
  it('reports every defined check exactly once, in the registry order', async () => {
    const run = await doctor();
    expect(run.report.results.map((r) => r.id)).toEqual(CHECK_DEFINITIONS.map((d) => d.id));
  });

  it('passes every check; only the Host check is not applicable, with its reason', async () => {
    const run = await doctor();
    const notPassed = run.report.results.filter((r) => r.verdict !== 'pass').map((r) => `${r.id}: ${r.verdict}: ${r.summary}`);
    expect(notPassed).toEqual([
      'transport-host: not-applicable: rs.example.com is not a loopback http server',
    ]);
    expect(doctorExitCode(run.report)).toBe(0);
  });

  it('logs in with the client\'s own steps, twice (this server, then the second audience)', async () => {
    const run = await doctor();
    expect(run.steps.map((s) => `${s.step}:${s.status}`)).toEqual([
      'as-metadata:ok', 'registration:ok', 'authorize:ok', 'callback:ok', 'token:ok', 'authorize:ok', 'callback:ok', 'token:ok',
    ]);
    expect(run.steps.filter((s) => s.step === 'authorize').map((s) => s.data.resource)).toEqual([MCP, FOREIGN]);
  });

  it('reports both eras the server speaks', async () => {
    const run = await doctor();
    expect(run.result('era-support').summary).toBe('2026-07-28 server/discover: yes (supportedVersions 2026-07-28); 2025 initialize: yes (protocolVersion 2025-11-25)');
  });

  it('every result carries evidence for what it judged, with tokens redacted', async () => {
    const run = await doctor();
    for (const r of run.report.results.filter((x) => x.verdict !== 'not-applicable' && !x.id.startsWith('registration-methods') && x.id !== 'authorization-response-iss')) {
      expect(r.evidence.length, r.id).toBeGreaterThan(0);
    }
    const text = JSON.stringify(run.report.results);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    expect(run.result('token-signature').evidence[0]?.headers.authorization).toMatch(/^Bearer eyJhbG…$/);
  });
});

describe('doctor without credentials', () => {
  it('makes the discovery checks and says why each token check is not applicable', async () => {
    const run = await doctor({}, async () => ({}));
    expect(run.failed()).toEqual([]);
    for (const id of ['token-accepted', 'token-foreign-audience', 'token-expired', 'token-signature', 'token-alg-none', 'authorization-response-iss']) {
      expect(run.result(id)).toMatchObject({ verdict: 'not-applicable', summary: 'no credentials: run with --login user:password or --token T' });
    }
    expect(run.result('era-support').verdict).toBe('not-applicable');
    expect(run.result('token-query-refused').verdict).toBe('pass');
    expect(run.result('transport-origin').verdict).toBe('pass');
  });

  it('with --token only: the signature and alg checks run on the given token; the second audience is not applicable', async () => {
    const run = await doctor({}, async (lab) => ({ token: await lab.mint() }));
    expect(run.failed()).toEqual([]);
    expect(run.verdict('token-signature')).toBe('pass');
    expect(run.verdict('token-alg-none')).toBe('pass');
    expect(run.result('token-foreign-audience').summary).toMatch(/--foreign-token/);
    expect(run.result('token-expired').summary).toMatch(/mints nothing it cannot sign/);
  });

  it('an opaque token: tampering checks are not applicable, not passed', async () => {
    const run = await doctor({ defects: ['accepts-alg-none'] }, async () => ({ token: 'opaque-token-value' }));
    expect(run.verdict('token-accepted')).toBe('fail');
    expect(run.result('token-signature').summary).toMatch(/refused too/);
  });
});

describe('doctor against deliberately broken servers', () => {
  it.each(BROKEN_SERVERS)('$defect makes exactly $fails fail', async ({ defect, fails }) => {
    const run = await doctor({ defects: [defect] });
    expect(run.failed()).toEqual([fails]);
    expect(doctorExitCode(run.report)).toBe(1);
  });

  it('wrong resource: the evidence names the document and both values', async () => {
    const run = await doctor({ defects: ['wrong-resource'] });
    expect(run.result('prm-resource-identity').summary).toBe(
      'https://rs.example.com/.well-known/oauth-protected-resource/mcp says resource "https://elsewhere.example.com/mcp", expected "https://rs.example.com/mcp"',
    );
  });

  it('unescaped challenge: the grammar error names the position; the parameters it would carry are not applicable', async () => {
    const run = await doctor({ defects: ['unescaped-challenge'] });
    expect(run.result('challenge-grammar').summary).toMatch(/^WWW-Authenticate does not parse: expected "," after parameter "error_description" at position \d+$/);
    expect(run.verdict('challenge-resource-metadata')).toBe('not-applicable');
  });

  it('issuer with a trailing slash: the login is refused by the client, so the token checks say why they could not run', async () => {
    const run = await doctor({ defects: ['issuer-trailing-slash'] });
    expect(run.result('as-issuer-echo').summary).toBe(
      'https://as.example.com/.well-known/oauth-authorization-server says issuer "https://as.example.com/", the resource names "https://as.example.com"; ' +
        'https://as.example.com/.well-known/openid-configuration says issuer "https://as.example.com/", the resource names "https://as.example.com"',
    );
    expect(run.result('token-accepted').summary).toMatch(/^the login failed at step as-metadata: issuer identical to the one the resource named/);
  });

  it('an AS without RFC 9207 iss at all: a warning, not a failure (MCP recommends it)', async () => {
    const run = await doctor({ defects: ['no-iss'] });
    expect(run.failed()).toEqual([]);
    expect(run.warned()).toEqual(['as-iss-parameter']);
    expect(run.verdict('authorization-response-iss')).toBe('not-applicable');
  });

  it('an error code in the challenge to a request without credentials is a warning', async () => {
    const run = await doctor({ defects: ['error-without-credentials'] });
    expect(run.failed()).toEqual([]);
    expect(run.warned()).toEqual(['challenge-no-error-without-credentials']);
  });

  it('accepts a foreign audience: found with a token the AS issued for the second audience, not a minted one', async () => {
    const run = await doctor({ defects: ['accepts-foreign-audience'] });
    expect(run.result('token-foreign-audience').summary).toBe('HTTP 200 to a token for another audience: accepted');
  });
});

describe('doctor: a second audience by scope (an AS that sets aud by scope, like Dex)', () => {
  it('--foreign-scope gets a token for this resource whose audience is the client: refused', async () => {
    const run = await doctor({}, async (lab) => ({ userAgent: lab.userAgent(), foreignScope: ['openid'] }));
    expect(run.steps.filter((s) => s.step === 'authorize').map((s) => s.data.scope)).toEqual(['notes:read', 'openid']);
    expect(run.result('token-foreign-audience')).toMatchObject({ verdict: 'pass', summary: 'HTTP 401 to a token for another audience' });
  });

  it('--foreign-scope against a server that does not check aud: fails', async () => {
    const run = await doctor({ defects: ['accepts-foreign-audience'] }, async (lab) => ({ userAgent: lab.userAgent(), foreignScope: ['openid'] }));
    expect(run.failed()).toEqual(['token-foreign-audience']);
  });
});

describe('doctor: protocol eras', () => {
  it('a server answering server/discover without a token: the token checks fall back to initialize', async () => {
    const run = await doctor({ defects: ['public-discover'] });
    expect(run.failed()).toEqual([]);
    expect(run.result('token-alg-none')).toMatchObject({ verdict: 'pass' });
    expect(run.result('token-accepted').evidence[0]?.headers['mcp-session-id']).toBe('sess-1');
  });

  it('a 2025-only server passes in auto mode and says 2026-07-28 is not spoken', async () => {
    const run = await doctor({ eras: ['2025'] });
    expect(run.result('era-support')).toMatchObject({ verdict: 'pass', summary: expect.stringMatching(/^2026-07-28 server\/discover: no \(HTTP 400\); 2025 initialize: yes/) });
  });

  it('--protocol-era modern (2026-07-28) against a 2025-only server fails era-support', async () => {
    const run = await doctor({ eras: ['2025'] }, async (lab) => ({ userAgent: lab.userAgent(), protocolEra: 'modern' }));
    expect(run.failed()).toEqual(['era-support']);
  });

  it('a 2026-07-28-only server: the token checks use server/discover', async () => {
    const run = await doctor({ eras: ['2026-07-28'] });
    expect(run.failed()).toEqual([]);
    expect(run.result('token-accepted').evidence[0]?.status).toBe(200);
  });
});

describe('doctor: a URL where nothing answers', () => {
  it('exactly challenge-401 fails, saying so; every other check is not applicable', async () => {
    const report = await runDoctor({
      serverUrl: 'http://127.0.0.1:9/mcp',
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
      observer: { check: () => undefined, diagnostic: () => undefined },
    });
    expect(report.results.filter((r) => r.verdict === 'fail')).toMatchObject([{ id: 'challenge-401', summary: 'the MCP server cannot be reached: fetch failed' }]);
    expect(report.counts).toEqual({ pass: 0, fail: 1, warn: 0, 'not-applicable': CHECK_DEFINITIONS.length - 1 });
  });
});

describe('doctor: Host check of a loopback server', () => {
  async function hostVerdict(status: number): Promise<CheckResult> {
    const seen: string[] = [];
    const hostProbe: HostProbe = async (_url, host) => {
      seen.push(host);
      return new Response(null, { status });
    };
    const results: CheckResult[] = [];
    const fetch = async () => new Response(null, { status: 403 });
    const ctx = createDoctorContext('http://127.0.0.1:3999/mcp', { protocolEra: 'auto', hostProbe }, fetch, (r) => results.push(r), () => undefined, () => undefined);
    await transportModule.run(ctx);
    expect(seen).toEqual(['evil.example:3999']);
    const host = results.find((r) => r.id === 'transport-host');
    if (!host) throw new Error('no transport-host result');
    return host;
  }

  it('a foreign Host refused (421): pass', async () => {
    expect(await hostVerdict(421)).toMatchObject({ verdict: 'pass', summary: 'HTTP 421 to Host: evil.example:3999: refused' });
  });

  it('a foreign Host answered 401: not applicable, a rebound page has no token', async () => {
    expect((await hostVerdict(401)).verdict).toBe('not-applicable');
  });

  it('a foreign Host served without a token: warn', async () => {
    expect(await hostVerdict(200)).toMatchObject({ verdict: 'warn', summary: 'HTTP 200 to Host: evil.example:3999: served under a foreign host name without a token' });
  });
});
