/**
 * The application side of the official SDK clients' OAuth: an `OAuthClientProvider` (the interface is the same in
 * shape for SDK v1 and v2) that keeps everything in memory and whose "browser" is the test kit's login, i.e. the lab
 * client's own headless driver (cookie jar, login form, consent). It does what an application does and nothing
 * more: the SDK decides when to authorize, which scope, resource and client to use.
 */
import { randomBytes } from 'node:crypto';
import { browserLogin, CookieJar, type LoginDriverName } from './login.ts';

export interface HeadlessProviderOptions {
  readonly redirectUrl: string;
  readonly username: string;
  readonly password: string;
  /** The IdP's login driver; absent, the login detects it. */
  readonly driver?: LoginDriverName;
  /** A pre-registered client id (Dex, Keycloak, the embedded IdP's CLI client); absent lets the SDK register (DCR). */
  readonly clientId?: string;
  /** The issuer a pre-registered client is stamped with (SEP-2352: credentials are bound to their issuer). */
  readonly clientIssuer?: string;
  /** Client metadata beyond the defaults (e.g. `application_type`), and `client_name` when it should differ. */
  readonly clientMetadata?: Json;
  /**
   * False: the provider keeps no discovery state, so the SDK discovers the AS again on the callback leg (what an
   * application that omits the optional methods sees). Default true.
   */
  readonly keepDiscoveryState?: boolean;
}

type Json = Record<string, unknown>;

/** Implements both SDK majors' OAuthClientProvider; cast at the transport (their types differ only in names). */
export class HeadlessOAuthProvider {
  readonly #opts: HeadlessProviderOptions;
  readonly #jar = new CookieJar();
  #client: Json | undefined;
  #tokens: Json | undefined;
  #verifier: string | undefined;
  #state: string | undefined;
  #callback: URL | undefined;
  #discovery: Json | undefined;
  /** Every authorization request URL the SDK built, in order. */
  readonly authorizations: URL[] = [];
  /** Only for DCR: an SDK never registers when the provider cannot save what it would get. */
  readonly saveClientInformation?: (info: Json) => void;
  /** Optional in both SDKs; absent when `keepDiscoveryState` is false. */
  readonly saveDiscoveryState?: (state: Json) => void;
  readonly discoveryState?: () => Json | undefined;

  constructor(opts: HeadlessProviderOptions) {
    this.#opts = opts;
    if (opts.clientId !== undefined) {
      this.#client = { client_id: opts.clientId, ...(opts.clientIssuer === undefined ? {} : { issuer: opts.clientIssuer }) };
    } else this.saveClientInformation = (info) => void (this.#client = info);
    if (opts.keepDiscoveryState !== false) {
      // Kept next to the code verifier, as the SDKs ask, so the callback leg is bound to the same authorization server.
      this.saveDiscoveryState = (state) => void (this.#discovery = state);
      this.discoveryState = () => this.#discovery;
    }
  }

  get redirectUrl(): string {
    return this.#opts.redirectUrl;
  }

  get clientMetadata(): Json & { redirect_uris: string[] } {
    return {
      client_name: 'mcp-lab SDK matrix',
      redirect_uris: [this.#opts.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...this.#opts.clientMetadata,
    };
  }

  state(): string {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }

  clientInformation(): Json | undefined {
    return this.#client;
  }

  tokens(): Json | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: Json): void {
    this.#tokens = tokens;
  }

  /** The scope the last token response granted (what the RS will see). */
  grantedScope(): string | undefined {
    return typeof this.#tokens?.scope === 'string' ? this.#tokens.scope : undefined;
  }

  /** Signs in headlessly with the lab client's login driver and keeps the redirect the IdP answered with. */
  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizations.push(authorizationUrl);
    const outcome = await browserLogin({
      authorizationUrl,
      redirectUri: this.#opts.redirectUrl,
      username: this.#opts.username,
      password: this.#opts.password,
      ...(this.#opts.driver === undefined ? {} : { driver: this.#opts.driver }),
      jar: this.#jar,
    });
    if (outcome.kind !== 'redirect') throw new Error(`the IdP did not redirect back (HTTP ${outcome.status}: ${outcome.reason})`);
    this.#callback = outcome.location;
  }

  /**
   * The authorization response the application hands to `transport.finishAuth`, after the check only it can make:
   * `state` is the one it generated (the SDK leaves that to the application).
   */
  takeCallback(): URLSearchParams {
    const cb = this.#callback;
    this.#callback = undefined;
    if (cb === undefined) throw new Error('no authorization response: the SDK did not redirect to the authorization server');
    const params = cb.searchParams;
    if (params.has('error')) throw new Error(`the IdP answered ${params.get('error')}: ${params.get('error_description') ?? ''}`);
    if (params.get('state') !== this.#state) throw new Error('state mismatch in the authorization response');
    return params;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#verifier = codeVerifier;
  }

  codeVerifier(): string {
    if (this.#verifier === undefined) throw new Error('no code verifier saved');
    return this.#verifier;
  }
}
