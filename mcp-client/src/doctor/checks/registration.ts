/**
 * How a client gets a client_id here (MCP Client Registration: pre-registered, Client ID Metadata Document,
 * Dynamic Client Registration), and whether DCR accepts a native loopback client with `application_type`.
 */
import type { CheckDefinition } from '../check.ts';
import { describeProbe, type DoctorContext } from '../context.ts';
import { reportAllNotApplicable, type CheckModule } from '../module.ts';
import { mcp, rfc } from '../spec.ts';

export const REGISTRATION_METHODS: CheckDefinition = {
  id: 'registration-methods',
  concern: 'registration',
  title: 'The registration methods the authorization server offers',
  meaning: 'Clients use a pre-registered client_id, else a Client ID Metadata Document, else DCR; with neither of the last two a person must obtain a client_id out of band.',
  spec: mcp('basic/authorization', 'Client Registration', 'client-registration'),
  fix: 'Advertise client_id_metadata_document_supported: true or a registration_endpoint, or document the client_id clients must use.',
  needsCredentials: false,
};

export const REGISTRATION_DCR_NATIVE: CheckDefinition = {
  id: 'registration-dcr-native',
  concern: 'registration',
  title: 'Dynamic Client Registration accepts a native client with a loopback redirect_uri and application_type',
  meaning: 'MCP clients are native apps (RFC 8252): they register application_type "native" with http://127.0.0.1 redirect URIs.',
  spec: rfc(7591, '3.2.1'),
  fix: 'Accept application_type "native" with loopback redirect URIs (any port) and echo the registered metadata in the response.',
  needsCredentials: false,
};

const CHECKS = [REGISTRATION_METHODS, REGISTRATION_DCR_NATIVE];

async function run(ctx: DoctorContext): Promise<void> {
  const as = ctx.facts.as?.metadata;
  if (!as) {
    reportAllNotApplicable(ctx, CHECKS, 'no authorization server metadata (see the authorization server checks)');
    return;
  }
  const cimd = as.client_id_metadata_document_supported === true;
  const dcr = typeof as.registration_endpoint === 'string';
  const methods = ['pre-registered', ...(cimd ? ['client ID metadata document'] : []), ...(dcr ? ['dynamic client registration'] : [])];
  ctx.report(
    REGISTRATION_METHODS,
    'pass',
    cimd || dcr ? methods.join(', ') : 'pre-registered only (no CIMD, no registration_endpoint): clients need a client_id from the operator',
  );
  if (!dcr) {
    ctx.report(REGISTRATION_DCR_NATIVE, 'not-applicable', 'the authorization server has no registration_endpoint');
    return;
  }
  const p = await ctx.send('Dynamic Client Registration of a native client', as.registration_endpoint as string, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      client_name: 'mcp-lab-client doctor',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
  const ev = [p.evidence];
  const body = p.json as Record<string, unknown> | undefined;
  if (p.status === 401 || p.status === 403) {
    ctx.report(REGISTRATION_DCR_NATIVE, 'not-applicable', `${describeProbe(p)}: open registration is refused here; it needs an initial access token or a trusted host (RFC 7591 §3)`, ev);
  } else if (p.status !== 201 && p.status !== 200) {
    ctx.report(REGISTRATION_DCR_NATIVE, 'fail', `${describeProbe(p)}${typeof body?.error === 'string' ? ` ${body.error}` : ''}: a native loopback client was refused`, ev);
  } else if (typeof body?.client_id !== 'string') {
    ctx.report(REGISTRATION_DCR_NATIVE, 'fail', `${describeProbe(p)} without a client_id`, ev);
  } else if (body.application_type === undefined) {
    ctx.report(REGISTRATION_DCR_NATIVE, 'warn', `registered ${body.client_id}, but application_type is not echoed (RFC 7591 §3.2.1 returns all registered metadata)`, ev);
  } else {
    const ok = body.application_type === 'native';
    ctx.report(REGISTRATION_DCR_NATIVE, ok ? 'pass' : 'fail', `registered ${body.client_id} with application_type ${JSON.stringify(body.application_type)}`, ev);
  }
}

export const registrationModule: CheckModule = { name: 'registration', checks: CHECKS, run };
