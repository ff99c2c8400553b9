/**
 * The authorization server quirks: each a set of hooks on the traffic between clients (and the RS) and the AS.
 * Endpoints are learned from the metadata documents that pass through, so the same quirk works in front of the
 * embedded IdP, Dex and Keycloak.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { QuirkName } from './catalogue.ts';
import {
  authorizationResponse,
  formBody,
  isAsMetadataPath,
  jsonAnswer,
  jsonBody,
  setJsonBody,
  target,
  type QuirkHooks,
  type QuirkRequest,
  type QuirkResponse,
} from './hooks.ts';
import { RefreshFamilies } from './refresh-families.ts';
import { ResigningKeys, type ResignOptions } from './resigning.ts';

/** Endpoint paths of the AS, learned from its metadata. */
export interface AsEndpoints {
  authorization?: string;
  token?: string;
  registration?: string;
}

export interface AsQuirkContext {
  readonly issuer: string;
  /** Where the layer serves its own JWKS (re-signing quirks). */
  readonly jwksUrl: string;
  readonly endpoints: AsEndpoints;
  readonly families: RefreshFamilies;
  readonly keys: ResigningKeys;
  /** Whether `no-iss` is on too (an error redirect from the layer then carries no iss either). */
  readonly noIss: boolean;
}

/** The access token lifetime `short-token-ttl` announces. */
export const SHORT_TOKEN_TTL_S = 20;
/** How long `single-use-refresh` holds a refresh answer. */
export const SLOW_REFRESH_MS = 1000;
/** How far ahead `clock-skew`'s clock runs. */
export const CLOCK_SKEW_S = 300;
export const WRONG_ISSUER_SUFFIX = '/other-tenant';

function pathOf(url: unknown): string | undefined {
  return typeof url === 'string' && URL.canParse(url) ? new URL(url).pathname : undefined;
}

/** Records the endpoint paths a metadata document names. */
export function learnEndpoints(endpoints: AsEndpoints, doc: Record<string, unknown>): void {
  endpoints.authorization = pathOf(doc.authorization_endpoint) ?? endpoints.authorization;
  endpoints.token = pathOf(doc.token_endpoint) ?? endpoints.token;
  endpoints.registration = pathOf(doc.registration_endpoint) ?? endpoints.registration;
}

function metadataHook(edit: (doc: Record<string, unknown>) => void): QuirkHooks {
  return {
    response(req, res) {
      if (!isAsMetadataPath(target(req).pathname) || res.status !== 200) return;
      const doc = jsonBody(res);
      if (doc === undefined) return;
      edit(doc);
      setJsonBody(res, doc);
    },
  };
}

function isTokenRequest(req: QuirkRequest, c: AsQuirkContext): boolean {
  return req.method === 'POST' && c.endpoints.token !== undefined && target(req).pathname === c.endpoints.token;
}

function isAuthorizationRequest(req: QuirkRequest, c: AsQuirkContext): boolean {
  return c.endpoints.authorization !== undefined && target(req).pathname === c.endpoints.authorization;
}

/** A token endpoint JSON answer, for hooks that rewrite what the AS issued. */
function tokenResponse(req: QuirkRequest, res: QuirkResponse, c: AsQuirkContext): Record<string, unknown> | undefined {
  if (!isTokenRequest(req, c) || res.status !== 200) return undefined;
  const json = jsonBody(res);
  return json && typeof json.access_token === 'string' ? json : undefined;
}

function loopbackRedirect(uri: string | null): URL | undefined {
  if (uri === null || !URL.canParse(uri)) return undefined;
  const u = new URL(uri);
  return u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]') ? u : undefined;
}

function rejectResource(c: AsQuirkContext): QuirkHooks {
  const description = 'AADSTS9010010: The resource parameter provided in the request doesn\'t match with the requested scopes.';
  return {
    request(req) {
      if (isAuthorizationRequest(req, c)) {
        const q = target(req).searchParams;
        if (!q.has('resource')) return undefined;
        // Only loopback redirects: the layer must not become an open redirector.
        const back = loopbackRedirect(q.get('redirect_uri'));
        if (!back) return jsonAnswer(400, { error: 'invalid_target', error_description: description });
        back.searchParams.set('error', 'invalid_target');
        back.searchParams.set('error_description', description);
        if (q.has('state')) back.searchParams.set('state', q.get('state') as string);
        if (!c.noIss) back.searchParams.set('iss', c.issuer);
        return { status: 302, headers: { location: back.href, 'cache-control': 'no-store' }, body: '' };
      }
      if (isTokenRequest(req, c) && formBody(req)?.has('resource')) return jsonAnswer(400, { error: 'invalid_target', error_description: description });
      return undefined;
    },
  };
}

/** Auth0's `audience`: remembered per authorization request (by state), then per code, then applied to the token. */
function requireAudienceParam(c: AsQuirkContext): QuirkHooks {
  const withAudienceByState = new Map<string, boolean>();
  const withAudienceByCode = new Map<string, boolean>();
  return {
    request(req) {
      if (!isAuthorizationRequest(req, c)) return undefined;
      const u = target(req);
      const state = u.searchParams.get('state');
      if (state !== null) withAudienceByState.set(state, u.searchParams.has('audience'));
      // The upstream knows RFC 8707 only: the non-standard parameter stops here.
      u.searchParams.delete('audience');
      req.url = `${u.pathname}${u.search}`;
      return undefined;
    },
    response(req, res) {
      const back = authorizationResponse(res);
      const state = back?.searchParams.get('state');
      const code = back?.searchParams.get('code');
      if (state && code && withAudienceByState.has(state)) withAudienceByCode.set(code, withAudienceByState.get(state) === true);
      const json = tokenResponse(req, res, c);
      const form = formBody(req);
      if (!json || form?.get('grant_type') !== 'authorization_code') return;
      if (withAudienceByCode.get(form.get('code') ?? '') !== false) return;
      // What Auth0 issues without an API audience: an opaque token for its userinfo endpoint, no refresh token.
      json.access_token = randomBytes(24).toString('base64url');
      delete json.refresh_token;
      setJsonBody(res, json);
    },
  };
}

function singleUseRefresh(c: AsQuirkContext): QuirkHooks {
  return {
    async request(req) {
      if (!isTokenRequest(req, c)) return undefined;
      const form = formBody(req);
      if (form?.get('grant_type') !== 'refresh_token') return undefined;
      const verdict = c.families.use(form.get('refresh_token') ?? '');
      if (verdict !== 'ok') {
        return jsonAnswer(400, {
          error: 'invalid_grant',
          error_description: verdict === 'reuse' ? 'refresh token reuse detected; the token family is revoked' : 'the token family was revoked after a reuse',
        });
      }
      await sleep(SLOW_REFRESH_MS);
      return undefined;
    },
    response(req, res) {
      const json = tokenResponse(req, res, c);
      if (!json || typeof json.refresh_token !== 'string') return;
      const form = formBody(req);
      const previous = form?.get('grant_type') === 'refresh_token' ? (form.get('refresh_token') ?? undefined) : undefined;
      c.families.issued(json.refresh_token, previous);
    },
  };
}

function resign(c: AsQuirkContext, opts: ResignOptions): QuirkHooks {
  return {
    async response(req, res) {
      if (isAsMetadataPath(target(req).pathname) && res.status === 200) {
        const doc = jsonBody(res);
        if (doc?.jwks_uri !== undefined) setJsonBody(res, { ...doc, jwks_uri: c.jwksUrl });
        return;
      }
      const json = tokenResponse(req, res, c);
      if (!json) return;
      const signed = await c.keys.resign(json.access_token as string, opts);
      if (signed === undefined) return;
      json.access_token = signed;
      setJsonBody(res, json);
    },
  };
}

/** The hooks of an AS quirk. */
export function asQuirkHooks(name: QuirkName, c: AsQuirkContext): QuirkHooks {
  switch (name) {
    case 'issuer-trailing-slash':
      return metadataHook((doc) => {
        if (typeof doc.issuer === 'string' && !doc.issuer.endsWith('/')) doc.issuer = `${doc.issuer}/`;
      });
    case 'no-iss':
      return {
        response(req, res) {
          metadataHook((doc) => delete doc.authorization_response_iss_parameter_supported).response?.(req, res);
          const back = authorizationResponse(res);
          if (back?.searchParams.has('iss')) {
            back.searchParams.delete('iss');
            res.headers.location = back.href;
          }
        },
      };
    case 'wrong-iss':
      return {
        response(_req, res) {
          const back = authorizationResponse(res);
          if (!back) return;
          back.searchParams.set('iss', `${c.issuer.replace(/\/$/, '')}${WRONG_ISSUER_SUFFIX}`);
          res.headers.location = back.href;
        },
      };
    case 'no-rfc8414':
      return {
        request: (req) => (target(req).pathname.startsWith('/.well-known/oauth-authorization-server') ? jsonAnswer(404, { error: 'not_found' }) : undefined),
      };
    case 'no-dcr':
      return {
        request: (req) => (req.method === 'POST' && c.endpoints.registration !== undefined && target(req).pathname === c.endpoints.registration ? jsonAnswer(404, { error: 'not_found' }) : undefined),
        response: metadataHook((doc) => delete doc.registration_endpoint).response,
      };
    case 'no-s256':
      return metadataHook((doc) => delete doc.code_challenge_methods_supported);
    case 'reject-resource':
      return rejectResource(c);
    case 'require-audience-param':
      return requireAudienceParam(c);
    case 'short-token-ttl': {
      // The token really expires (re-signed with exp = iat + 20 s) and the response says so.
      const resigned = resign(c, { rotate: false, skewS: 0, ttlS: SHORT_TOKEN_TTL_S });
      return {
        async response(req, res) {
          await resigned.response?.(req, res);
          const json = tokenResponse(req, res, c);
          if (!json) return;
          json.expires_in = SHORT_TOKEN_TTL_S;
          setJsonBody(res, json);
        },
      };
    }
    case 'single-use-refresh':
      return singleUseRefresh(c);
    case 'rotate-keys':
      return resign(c, { rotate: true, skewS: 0 });
    case 'clock-skew':
      return resign(c, { rotate: false, skewS: CLOCK_SKEW_S });
    case 'strip-www-authenticate':
    case 'prm-resource-mismatch':
      return {};
  }
}

/** Keeps `endpoints` up to date from every metadata document that passes (runs before the quirks rewrite it). */
export function learningHooks(endpoints: AsEndpoints): QuirkHooks {
  return {
    response(req, res) {
      if (!isAsMetadataPath(target(req).pathname) || res.status !== 200) return;
      const doc = jsonBody(res);
      if (doc) learnEndpoints(endpoints, doc);
    },
  };
}

