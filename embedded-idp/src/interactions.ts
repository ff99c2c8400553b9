import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { authenticate } from './accounts.ts';
import { errorPage, INVALID_CREDENTIALS, loginPage } from './login-page.ts';

const MAX_FORM_BYTES = 16 * 1024;
const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/;

/** An interaction request the IdP cannot serve; owns its HTTP status. */
class InteractionError extends Error {
  readonly status: number;
  readonly title: string;
  constructor(status: number, title: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InteractionError';
    this.status = status;
    this.title = title;
  }
}

/**
 * `formTarget`: the origin the sign-in form's redirect chain ends at (the client's redirect URI, already checked
 * against its registration by oidc-provider). Browsers apply `form-action` to every redirect after a form
 * submission, so without it the final redirect to the client would be blocked.
 */
function send(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}, formTarget?: string): void {
  const formAction = formTarget === undefined ? "'self'" : `'self' ${formTarget}`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'`,
    ...headers,
  });
  res.end(html);
}

/** The origin of a validated redirect URI, or undefined (nothing added to form-action). */
function redirectOrigin(redirectUri: unknown): string | undefined {
  if (typeof redirectUri !== 'string') return undefined;
  const u = URL.parse(redirectUri);
  return u !== null && (u.protocol === 'http:' || u.protocol === 'https:') ? u.origin : undefined;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new InteractionError(415, 'Unsupported form', 'The sign-in form must be sent as application/x-www-form-urlencoded.');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new InteractionError(413, 'Form too large', 'The sign-in form is too large.');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** What the interaction steps work with. */
interface InteractionDeps {
  readonly provider: Provider;
  readonly log: Logger;
}

async function showLogin(
  { provider }: InteractionDeps,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  error?: string,
  username?: string,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const client = await provider.Client.find(String(details.params.client_id));
  send(
    res,
    200,
    loginPage({
      uid,
      clientName: client?.clientName ?? String(details.params.client_id),
      scope: typeof details.params.scope === 'string' ? details.params.scope : '',
      resources: asList(details.params.resource),
      ...(error === undefined ? {} : { error }),
      ...(username === undefined ? {} : { username }),
    }),
    {},
    redirectOrigin(details.params.redirect_uri),
  );
}

async function grantConsent({ provider, log }: InteractionDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const interaction = await provider.interactionDetails(req, res);
  const accountId = interaction.session?.accountId;
  const clientId = String(interaction.params.client_id);
  if (accountId === undefined) throw new InteractionError(400, 'Not signed in', 'Sign in first.');
  const grant =
    (interaction.grantId === undefined ? undefined : await provider.Grant.find(interaction.grantId)) ??
    new provider.Grant({ accountId, clientId });
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = interaction.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missingOIDCScope !== undefined) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims !== undefined) grant.addOIDCClaims(missingOIDCClaims);
  if (missingResourceScopes !== undefined) {
    for (const [indicator, scopes] of Object.entries(missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  log.info({ event: 'consent.auto_granted', clientId, accountId }, 'lab consent granted automatically');
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function show(deps: InteractionDeps, req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
  const interaction = await deps.provider.interactionDetails(req, res);
  if (interaction.uid !== uid) throw new InteractionError(400, 'Wrong sign-in session', 'This sign-in page does not belong to your session; start again from the client.');
  switch (interaction.prompt.name) {
    case 'login':
      return showLogin(deps, req, res, uid);
    case 'consent':
      return grantConsent(deps, req, res);
    default:
      throw new InteractionError(400, 'Unsupported step', `The interaction step ${interaction.prompt.name} is not supported.`);
  }
}

async function login(deps: InteractionDeps, req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
  const { provider, log } = deps;
  const interaction = await provider.interactionDetails(req, res);
  if (interaction.uid !== uid) throw new InteractionError(400, 'Wrong sign-in session', 'This sign-in form does not belong to your session; start again from the client.');
  if (interaction.prompt.name !== 'login') throw new InteractionError(400, 'Already signed in', 'This sign-in step is already complete.');
  const form = await readForm(req);
  const username = form.get('username') ?? '';
  const user = authenticate(username, form.get('password') ?? '');
  if (user === undefined) {
    log.info({ event: 'login.failed', username }, 'sign-in failed');
    return showLogin(deps, req, res, uid, INVALID_CREDENTIALS, username);
  }
  log.info({ event: 'login.succeeded', username }, 'signed in');
  await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
}

/** Answers a failed interaction: its own status for an InteractionError, 400 for an expired session, else 500. */
function sendFailure(log: Logger, res: ServerResponse, err: unknown): void {
  if (err instanceof InteractionError) {
    send(res, err.status, errorPage(err.title, err.message));
  } else if (err instanceof Error && err.name === 'SessionNotFound') {
    // oidc-provider's interaction cookie is missing or the interaction expired.
    send(res, 400, errorPage('Sign-in expired', 'Your sign-in session was not found or has expired; start again from the client.'));
  } else {
    log.error({ err, event: 'interaction.error' }, 'interaction failed');
    if (!res.headersSent) send(res, 500, errorPage('Server error', 'The sign-in could not be completed.'));
    else res.destroy();
  }
}

/**
 * Login and consent for oidc-provider's interactions (the `interactions.url` points here):
 * - `GET /interaction/:uid` with a `login` prompt renders the sign-in form; with a `consent` prompt it grants the
 *   requested scopes, claims and resources at once (a lab shortcut, announced on the login page) and continues.
 * - `POST /interaction/:uid/login` checks `username`/`password`; a mismatch answers 200 with the form and the stable
 *   text {@link INVALID_CREDENTIALS}; a match finishes the login step with a 303 back to the authorization endpoint.
 * The interaction is found through oidc-provider's own interaction cookie, so a program that keeps a cookie jar
 * and follows redirects can sign in headlessly.
 */
export function interactionHandler(provider: Provider, log: Logger) {
  const deps: InteractionDeps = { provider, log };
  /** Returns true when the request was an interaction route (and has been answered). */
  return async function handleInteraction(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = new URL(req.url ?? '/', 'http://idp.invalid').pathname;
    const m = INTERACTION_PATH.exec(path);
    if (m === null) return false;
    const uid = m[1] as string;
    const isLogin = m[2] !== undefined;
    try {
      if (!isLogin && (req.method === 'GET' || req.method === 'HEAD')) await show(deps, req, res, uid);
      else if (isLogin && req.method === 'POST') await login(deps, req, res, uid);
      else send(res, 405, errorPage('Method not allowed', 'Use GET for the sign-in page and POST for the form.'), { allow: isLogin ? 'POST' : 'GET' });
    } catch (err) {
      sendFailure(log, res, err);
    }
    return true;
  };
}
