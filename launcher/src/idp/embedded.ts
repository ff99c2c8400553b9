/** The embedded IdP (oidc-provider) as a child process. */
import { startService } from '../children.ts';
import { repoPath } from '../repo.ts';

const MAIN = repoPath('embedded-idp/src/main.ts');

export interface EmbeddedOptions {
  readonly port: number;
  /** The issuer when it is not the listener's origin (a quirk layer fronts the IdP on another port). */
  readonly issuer?: string;
  /** Resource indicators the IdP may issue tokens for (the RS's identifiers). */
  readonly resources: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly log: NodeJS.WritableStream;
}

export interface RunningEmbedded {
  readonly issuer: string;
  stop(): Promise<void>;
}

/** Starts `node embedded-idp/src/main.ts`; resolves once its RFC 8414 document answers. */
export async function startEmbedded(opts: EmbeddedOptions): Promise<RunningEmbedded> {
  const origin = `http://127.0.0.1:${opts.port}`;
  const issuer = opts.issuer ?? origin;
  const svc = await startService(
    {
      name: 'embedded-idp',
      command: process.execPath,
      args: [MAIN],
      env: {
        IDP_HOST: '127.0.0.1',
        IDP_PORT: String(opts.port),
        IDP_ISSUER: issuer,
        IDP_RESOURCES: opts.resources.join(','),
        IDP_LOG_LEVEL: process.env.IDP_LOG_LEVEL ?? 'warn',
        ...opts.env,
      },
      readyUrl: `${origin}/.well-known/oauth-authorization-server`,
    },
    opts.log,
  );
  return { issuer, stop: () => svc.stop() };
}
