/** Message shown when credentials are wrong; clients (the CLI's headless login) match this exact text. */
export const INVALID_CREDENTIALS = 'Invalid username or password';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · MCP lab IdP</title>
<style>
body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}
label{display:block;margin-top:1rem;font-weight:600}
input{display:block;width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #666;border-radius:4px}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:4px;background:#0b57d0;color:#fff;cursor:pointer}
button:focus-visible,input:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}
.error{color:#a50e0e;background:#fce8e6;padding:.5rem .75rem;border-radius:4px}
.note{color:#444;font-size:.9rem}
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface LoginPageInput {
  readonly uid: string;
  readonly clientName: string;
  readonly scope: string;
  readonly resources: readonly string[];
  readonly username?: string;
  readonly error?: string;
}

/** The sign-in form: `username` and `password` posted as application/x-www-form-urlencoded to /interaction/:uid/login. */
export function loginPage(input: LoginPageInput): string {
  const error =
    input.error === undefined
      ? ''
      : `<p class="error" role="alert" id="login-error">${escapeHtml(input.error)}</p>\n`;
  const described = input.error === undefined ? '' : ' aria-describedby="login-error" aria-invalid="true"';
  const resources = input.resources.map((r) => `<code>${escapeHtml(r)}</code>`).join(', ');
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p><strong>${escapeHtml(input.clientName)}</strong> asks for access${resources === '' ? '' : ` to ${resources}`}${
      input.scope === '' ? '' : ` with scope <code>${escapeHtml(input.scope)}</code>`
    }.</p>
${error}<form method="post" action="/interaction/${encodeURIComponent(input.uid)}/login" autocomplete="on">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(input.username ?? '')}"${described}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${described}>
<button type="submit">Sign in</button>
</form>
<p class="note">Lab authorization server: after you sign in, the requested scopes and resource are granted
automatically (there is no consent screen). Demo users: alice / alice-password, bob / bob-password.</p>`,
  );
}

/** A short page for interaction errors (expired or unknown sign-in session, wrong step). */
export function errorPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p role="alert">${escapeHtml(message)}</p>`);
}
