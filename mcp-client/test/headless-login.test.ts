import { describe, expect, it } from 'vitest';
import { FlowError } from '../src/errors.ts';
import { CookieJar } from '../src/login/cookie-jar.ts';
import { headlessLogin } from '../src/login/headless.ts';
import { parseForms } from '../src/login/html-form.ts';
import { createStepContext } from '../src/step-context.ts';
import { fakeNetwork } from './fake-http.ts';

const AS = 'https://idp.example.com';
const REDIRECT = 'http://127.0.0.1:5555/callback';
const html = (body: string) => new Response(`<!doctype html><html><body>${body}</body></html>`, { status: 200, headers: { 'content-type': 'text/html' } });
const redirect = (location: string, cookie?: string) =>
  new Response(null, { status: 303, headers: { location, ...(cookie ? { 'set-cookie': cookie } : {}) } });

function input(driver: 'auto' | 'embedded' | 'dex' | 'keycloak' = 'auto', password = 'right') {
  return {
    authorizationUrl: new URL(`${AS}/auth?client_id=x`),
    redirectUri: REDIRECT,
    credentials: { username: 'alice', password },
    driver,
    jar: new CookieJar(),
  };
}

describe('headless login', () => {
  credentialFormTests();
  consentAndErrorPageTests();
});

describe('html forms', () => {
  it('decodes entities in the action (Keycloak style) and skips unchecked checkboxes', () => {
    const [form] = parseForms('<form id="kc-form-login" action="https://kc/realms/r/login-actions/authenticate?session_code=a&amp;tab_id=b" method="post"><input name="username" value=""><input name="rememberMe" type="checkbox"><input type="password" name="password"><input type="hidden" name="credentialId" value=""></form>');
    expect(form!.action).toBe('https://kc/realms/r/login-actions/authenticate?session_code=a&tab_id=b');
    expect(form!.fields.map((f) => f.name)).toEqual(['username', 'password', 'credentialId']);
  });
});

/** Sign-in forms: the embedded and Dex drivers, wrong passwords, and credentials kept to the AS's origin. */
function credentialFormTests(): void {
  it('embedded: follows redirects with cookies, posts username/password, stops at the redirect_uri', async () => {
    const net = fakeNetwork();
    net.on('GET', `${AS}/auth`, redirect('/interaction/1', '_interaction=abc; path=/interaction/1; httponly'));
    net.on('GET', `${AS}/interaction/1`, html('<form method="post" action="/interaction/1/login"><input name="username"><input type="password" name="password"><button type="submit">Sign in</button></form>'));
    net.on('POST', `${AS}/interaction/1/login`, (req) => {
      const p = new URLSearchParams(req.body);
      if (req.headers.get('cookie') !== '_interaction=abc') return new Response('no cookie', { status: 400 });
      return p.get('username') === 'alice' && p.get('password') === 'right'
        ? redirect(`${REDIRECT}?code=c&state=s`)
        : html('<p>Invalid</p><form method="post" action="/interaction/1/login"><input name="username"><input type="password" name="password"></form>');
    });
    const url = await headlessLogin(createStepContext(net.fetch), input());
    expect(url.href).toBe(`${REDIRECT}?code=c&state=s`);
  });

  it('a wrong password becomes "login failed at <origin>: invalid credentials"', async () => {
    const net = fakeNetwork();
    net.on('GET', `${AS}/auth`, html('<form method="post" action="/login"><input name="username"><input type="password" name="password"></form>'));
    net.on('POST', `${AS}/login`, html('<p>Invalid</p><form method="post" action="/login"><input name="username"><input type="password" name="password"></form>'));
    await expect(headlessLogin(createStepContext(net.fetch), input('auto', 'wrong'))).rejects.toThrow(`login failed at ${AS}: invalid credentials`);
  });

  it('a wrong password answered with 401 and the form again (Dex) is also invalid credentials', async () => {
    const net = fakeNetwork();
    const form = '<form method="post" action="/dex/auth/local/login"><input name="login"><input type="password" name="password"></form>';
    net.on('GET', `${AS}/auth`, html(form));
    net.on('POST', `${AS}/dex/auth/local/login`, new Response(`<html><body><p>Invalid Email Address and password.</p>${form}</body></html>`, { status: 401 }));
    await expect(headlessLogin(createStepContext(net.fetch), input('dex', 'wrong'))).rejects.toThrow(`login failed at ${AS}: invalid credentials`);
  });

  it('dex: fills login/password and keeps hidden fields', async () => {
    const net = fakeNetwork();
    net.on('GET', `${AS}/auth`, redirect('/dex/auth/local/login?back=&state=xyz'));
    net.on('GET', `${AS}/dex/auth/local/login`, html('<form method="post" action=""><input type="hidden" name="req" value="r1"><input name="login"><input type="password" name="password"></form>'));
    net.on('POST', `${AS}/dex/auth/local/login`, (req) => {
      const p = new URLSearchParams(req.body);
      return p.get('login') === 'alice' && p.get('req') === 'r1' ? redirect(`${REDIRECT}?code=c`) : new Response('bad', { status: 400 });
    });
    const url = await headlessLogin(createStepContext(net.fetch), input('auto'));
    expect(url.searchParams.get('code')).toBe('c');
    expect(net.seen.at(-1)!.url).toBe(`${AS}/dex/auth/local/login?back=&state=xyz`);
  });

  it('never sends credentials to a form on another origin', async () => {
    const net = fakeNetwork();
    net.on('GET', `${AS}/auth`, html('<form method="post" action="https://evil.example.com/steal"><input name="username"><input type="password" name="password"></form>'));
    await expect(headlessLogin(createStepContext(net.fetch), input())).rejects.toThrow(/refusing to send credentials/);
    expect(net.seen.map((r) => new URL(r.url).origin)).toEqual([AS]);
  });
}

/** A consent form, and the authorization server's error pages (their text and their code). */
function consentAndErrorPageTests(): void {
  it('submits a consent form without a password field, choosing the approving one', async () => {
    const net = fakeNetwork();
    net.on('GET', `${AS}/auth`, html('<form method="post" action="/approval"><input type="hidden" name="req" value="r"><input type="hidden" name="approval" value="rejected"><button type="submit">Cancel</button></form><form method="post" action="/approval"><input type="hidden" name="req" value="r"><button type="submit" name="approval" value="approve">Grant</button></form>'));
    net.on('POST', `${AS}/approval`, (req) => (new URLSearchParams(req.body).get('approval') === 'approve' ? redirect(`${REDIRECT}?code=c`) : new Response('no', { status: 400 })));
    const url = await headlessLogin(createStepContext(net.fetch), input());
    expect(url.searchParams.get('code')).toBe('c');
  });

  it('reports an error page from the authorization server with its text', async () => {
    const net = fakeNetwork();
    net.on('GET', `${AS}/auth`, new Response('<html><head><style>p{}</style></head><body><p>invalid_client: client is invalid</p></body></html>', { status: 400 }));
    await expect(headlessLogin(createStepContext(net.fetch), input())).rejects.toThrow(/HTTP 400: invalid_client: client is invalid/);
  });

  it('gives an error page naming invalid_client the code invalid-client (the AS does not know the client)', async () => {
    const net = fakeNetwork();
    net.on('GET', `${AS}/auth`, new Response('<html><body><h1>oops! something went wrong</h1><p>error: invalid_client</p></body></html>', { status: 400 }));
    const err = await headlessLogin(createStepContext(net.fetch), input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).code).toBe('invalid-client');
  });

  it('does not call another error page invalid-client', async () => {
    const net = fakeNetwork();
    net.on('GET', `${AS}/auth`, new Response('<html><body><p>invalid_redirect_uri: not registered</p></body></html>', { status: 400 }));
    const err = await headlessLogin(createStepContext(net.fetch), input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).code).toBe('step-failed');
  });
}
