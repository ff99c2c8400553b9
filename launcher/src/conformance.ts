/**
 * The lab's conformance mode (`npm start -- --conformance`): the official `conformance server` suite connects
 * without credentials, so the lab puts a loopback token-injecting proxy (token-proxy.ts) in front of the RS and
 * gives it a real access token — DCR, authorization code + PKCE with `resource`, headless sign-in at the embedded
 * IdP, refreshed before it expires. The RS is the normal RS (every request authenticated and authorized), with
 * three adjustments the suite needs: its diagnostic tools (`MCP_CONFORMANCE_FIXTURES=true`), the proxy's origin among
 * the allowed Origins (the suite sends `Origin` = the URL it was given), and per-subject caps raised (below). Never a switch that turns authentication
 * off: a request to the RS itself without a token is still a 401.
 */
import { obtainToken } from '@mcp-lab/test-kit/tokens';
import { freePort } from './free-port.ts';
import type { Profile } from './profile.ts';
import { startLab, type Lab, type LabOptions } from './stack.ts';
import { startTokenProxy, type TokenProxy } from './token-proxy.ts';

export interface ConformanceLab extends Lab {
  /** The proxy's origin: point the suite at `${frontUrl}/mcp`. */
  readonly frontUrl: string;
}

export interface ConformanceOptions extends LabOptions {
  /** The proxy's port (absent: a free one). */
  readonly frontPort?: number;
}

/**
 * The whole suite runs as one subject (the proxy's token), scenarios in parallel, each opening its own sessions:
 * the per-subject caps meant for one person's clients (sessions, streams, requests per second) are raised so that
 * the suite measures the protocol, not the quotas. Authentication and every other check are unchanged.
 */
const SUITE_AS_ONE_SUBJECT: Readonly<Record<string, string>> = Object.freeze({
  MCP_RATE_LIMIT_PER_S: '10000',
  MCP_RATE_LIMIT_BURST: '10000',
  MCP_SESSIONS_MAX_PER_SUBJECT: '1000',
  MCP_SSE_STREAMS_MAX_PER_SUBJECT: '1000',
});

/** The scopes the proxy's token carries: everything the lab's tools need. */
const SCOPE = 'notes:read notes:write';

/** Starts the lab with the conformance front; the embedded profile only (it needs DCR and a scripted login). */
export async function startConformanceLab(profile: Profile, opts: ConformanceOptions): Promise<ConformanceLab> {
  if (profile.idp.kind !== 'embedded') throw new Error(`--conformance needs the embedded IdP profile, not ${profile.name}`);
  const user = profile.login.users[0];
  if (!user) throw new Error(`profile ${profile.name} names no login user`);
  const rsPort = opts.rsPort || (await freePort());
  const frontPort = opts.frontPort || (await freePort());
  const rsUrl = `http://127.0.0.1:${rsPort}`;
  const frontUrl = `http://127.0.0.1:${frontPort}`;
  const lab = await startLab(profile, {
    ...opts,
    rsPort,
    rsEnv: { ...SUITE_AS_ONE_SUBJECT, ...opts.rsEnv, MCP_CONFORMANCE_FIXTURES: 'true', MCP_ALLOWED_ORIGINS: `${rsUrl},${frontUrl}` },
  });
  let proxy: TokenProxy | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  try {
    const obtained = await obtainToken({ issuer: lab.issuer, resource: `${lab.rsUrl}/mcp`, scope: SCOPE, username: user.username, password: user.password });
    let current = obtained.access_token;
    let refreshToken = obtained.refresh_token;
    const schedule = (expiresInS: number | undefined) => {
      if (expiresInS === undefined || refreshToken === undefined) return;
      refreshTimer = setTimeout(refresh, Math.max(1, expiresInS - 30) * 1000);
      refreshTimer.unref();
    };
    const refresh = () => {
      obtained.refresh(refreshToken).then(
        (next) => {
          current = next.access_token;
          refreshToken = next.refresh_token ?? refreshToken;
          schedule(next.expires_in);
        },
        (err: unknown) => opts.log.write(`conformance: token refresh failed: ${err instanceof Error ? err.message : String(err)}\n`),
      );
    };
    schedule(obtained.expires_in);
    proxy = await startTokenProxy({ target: lab.rsUrl, token: () => current, port: frontPort });
  } catch (err) {
    await lab.stop();
    throw err;
  }
  const front = proxy;
  return {
    ...lab,
    frontUrl,
    stop: async () => {
      clearTimeout(refreshTimer);
      await front.close();
      await lab.stop();
    },
  };
}
