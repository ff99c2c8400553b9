/**
 * The orchestrator's options and results, and what its parts share while one flow runs.
 */
import type { ElicitationHandler, ProtocolEra } from '../steps/era.ts';
import type * as oauth from 'oauth4webapi';
import type { FlowError } from '../errors.ts';
import type { FlowObserver, StepName } from '../events.ts';
import type { FetchLike } from '../http.ts';
import type { CookieJar } from '../login/cookie-jar.ts';
import type { LoginDriverName } from '../login/drivers.ts';
import type { Credentials } from '../login/headless.ts';
import type { StepContext } from '../step-context.ts';
import type { StoredTokens, TokenStore } from '../store.ts';
import type { UserAgent } from '../steps/authorize.ts';
import type { TransportKind } from '../steps/probe.ts';
import type { ClientRegistration } from '../steps/registration.ts';

export type Command = 'connect' | 'tools' | 'call';

export interface FlowOptions {
  readonly command: Command;
  readonly serverUrl: string;
  readonly transport: TransportKind;
  /** `--protocol-era`: which era of Streamable HTTP to speak (steps/era.ts); default auto. */
  readonly protocolEra?: ProtocolEra;
  /** Lab cookie mode (sse only): POST /session with the token, then the cookie. */
  readonly cookie: boolean;
  readonly login?: Credentials;
  readonly loginDriver: LoginDriverName;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly clientMetadataUrl?: string;
  /** `--scope`: overrides the scope selection strategy. */
  readonly scope?: readonly string[];
  /** `--authorize-param`: extra authorization request parameters (e.g. Auth0's `audience`); never a reserved one. */
  readonly authorizeParams?: Readonly<Record<string, string>>;
  readonly call?: ToolCall;
  /**
   * Chooses the calls after tools/list when `call` is not given (conformance mode: the tools the scenario's server
   * lists), made in order.
   */
  readonly chooseCalls?: (tools: readonly ListedTool[]) => readonly ToolCall[];
  /** Answers elicitation requests a 2026-07-28 server embeds in a result (conformance mode only; none: not declared). */
  readonly elicitation?: ElicitationHandler;
  /** `--fresh`: ignore stored tokens (no warm path, no stored or refreshed token): discovery and a new authorization. */
  readonly fresh?: boolean;
  readonly store: TokenStore;
  readonly fetch: FetchLike;
  readonly observer: FlowObserver;
  /** Opens the person's browser; resolves false when it could not. */
  readonly openBrowser: (url: string) => Promise<boolean>;
  /** Replaces the browser / headless login (conformance mode). */
  readonly userAgent?: UserAgent;
  /** The redirect_uri registered with DCR; loopback without a port (RFC 8252 §7.3). */
  readonly registeredRedirectUri?: string;
  readonly maxStepUps?: number;
  /** Margin before expiry at which a stored access token counts as expired. */
  readonly expiryMarginMs?: number;
}

export interface ToolCall {
  readonly tool: string;
  readonly args: Record<string, unknown>;
}

/** A tool as tools/list announced it (the fields a chooser reads). */
export interface ListedTool {
  readonly name: string;
  readonly inputSchema?: unknown;
}

export interface ToolSummary {
  readonly name: string;
  readonly description?: string;
}

export interface FlowResult {
  readonly tools?: readonly ToolSummary[];
  readonly callResult?: unknown;
}

/** Step data: what each step returns for its event. */
export type StepData = Record<string, unknown>;

/** What the token steps need to know about the authorization server, the client and the resource. */
export interface AuthContext {
  readonly as: oauth.AuthorizationServer;
  readonly client: ClientRegistration;
  readonly resource: string;
  readonly challengeScope: readonly string[] | undefined;
  readonly prmScopes: readonly string[] | undefined;
}

export interface Authorized {
  readonly auth: AuthContext;
  readonly tokens: StoredTokens;
}

/** Runs one step: times it, collects its HTTP exchanges and checks, and emits its event. */
export type StepRunner = <T>(name: StepName, fn: (ctx: StepContext) => Promise<[T, StepData]>, onFail?: (err: FlowError) => StepData) => Promise<T>;

/** One run of the flow, shared by its parts (discovery, tokens, authorization, MCP). */
export interface FlowRun {
  readonly opts: FlowOptions;
  /** The recording fetch every step uses. */
  readonly fetch: FetchLike;
  /** The headless login's cookies, kept across the authorizations of one run like a browser's. */
  readonly jar: CookieJar;
  readonly step: StepRunner;
  /** Set once the AS refused offline_access in this run: not asked for again (e.g. at a step-up). */
  offlineRefused: boolean;
}

export const DEFAULT_REDIRECT_URI = 'http://127.0.0.1/callback';
