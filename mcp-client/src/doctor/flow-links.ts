/**
 * The client's own refusals (a FlowError from a failed protocol check during connect, tools or call) that a doctor
 * check diagnoses: the CLI prints the catalog entry of that check with the error, so the person finds the spec
 * section and the fix. Keyed by the check name the step records (see steps/*); a test keeps the names current.
 */
import { catalogLink } from './check.ts';

export const FLOW_CHECK_TO_DOCTOR: Readonly<Record<string, string>> = {
  'unauthenticated request answered 401': 'challenge-401',
  'resource is identical to the expected resource identifier': 'prm-resource-identity',
  'authorization_servers lists at least one issuer': 'prm-authorization-servers',
  'issuer identical to the one the resource named': 'as-issuer-echo',
  'PKCE S256 supported': 'as-pkce-s256',
  'iss present when advertised (RFC 9207)': 'authorization-response-iss',
  'iss matches the recorded issuer (RFC 9207)': 'authorization-response-iss',
};

/** `docs/errors.md#<id>` for a failed flow check the doctor has a check for, else undefined. */
export function catalogLinkForFlowCheck(checkName: string | undefined): string | undefined {
  const id = checkName === undefined ? undefined : FLOW_CHECK_TO_DOCTOR[checkName];
  return id === undefined ? undefined : catalogLink(id);
}
