/**
 * The parts of the client that run in a browser as well (no Node APIs), for the lab's browser client (web/):
 * the step event types, the recording fetch, redaction, and the flow steps that need only `fetch` and WebCrypto.
 * The browser page runs exactly these checks, so both clients refuse the same things.
 */
export type { Check, HttpRecord, StepEvent, StepName } from './events.ts';
export { FlowError, messageOf } from './errors.ts';
export { HttpRecorder, type FetchLike } from './http.ts';
export { oauthOptions } from './oauth-options.ts';
export { redactUrl, redactToken } from './redact.ts';
export { createStepContext, type StepContext } from './step-context.ts';
export { discoverAuthorizationServer } from './steps/as-metadata.ts';
export { buildAuthorizationRequest, type PendingAuthorization } from './steps/authorize.ts';
export { validateCallback } from './steps/callback.ts';
export { connectMcp } from './steps/mcp.ts';
export { probe } from './steps/probe.ts';
export { describeOauthError, validClientMetadataUrl, type ClientRegistration } from './steps/registration.ts';
export { discoverResourceMetadata } from './steps/resource-metadata.ts';
export { describeTokens, exchangeCode } from './steps/token.ts';
