/**
 * Which form fields each identity provider's login page uses. `auto` picks by the fields the form has.
 */
import type { HtmlForm } from './html-form.ts';

export type LoginDriverName = 'auto' | 'embedded' | 'dex' | 'keycloak';
export const LOGIN_DRIVERS: readonly LoginDriverName[] = ['auto', 'embedded', 'dex', 'keycloak'];

export interface LoginFields {
  readonly driver: Exclude<LoginDriverName, 'auto'>;
  readonly user: string;
  readonly password: string;
}

export const LOGIN_FIELDS: Readonly<Record<Exclude<LoginDriverName, 'auto'>, LoginFields>> = {
  // embedded-idp: /interaction/:uid/login, fields username/password.
  embedded: { driver: 'embedded', user: 'username', password: 'password' },
  // Dex local connector: /dex/auth/local/login, fields login/password.
  dex: { driver: 'dex', user: 'login', password: 'password' },
  // Keycloak: #kc-form-login posting to login-actions/authenticate, fields username/password.
  keycloak: { driver: 'keycloak', user: 'username', password: 'password' },
};

/** True when the form asks for a password. */
export function isLoginForm(form: HtmlForm): boolean {
  return form.fields.some((f) => f.type === 'password');
}

/** The field names to fill, or undefined when the form is not the chosen driver's login form. */
export function loginFields(driver: LoginDriverName, form: HtmlForm): LoginFields | undefined {
  const names = new Set(form.fields.map((f) => f.name));
  if (driver === 'auto') {
    if (names.has('login') && names.has('password')) return LOGIN_FIELDS.dex;
    if (names.has('username') && names.has('password')) {
      return /login-actions\/authenticate/.test(form.action) ? LOGIN_FIELDS.keycloak : LOGIN_FIELDS.embedded;
    }
    return undefined;
  }
  const f = LOGIN_FIELDS[driver];
  return names.has(f.user) && names.has(f.password) ? f : undefined;
}
