/** The resource server quirks: what a gateway or a misconfigured deployment in front of the RS does to it. */
import type { QuirkName } from './catalogue.ts';
import { jsonBody, setJsonBody, target, type QuirkHooks } from './hooks.ts';

/** The resource `prm-resource-mismatch` names instead of the real one. */
export const OTHER_RESOURCE_ORIGIN = 'https://other.example';

export function rsQuirkHooks(name: QuirkName): QuirkHooks {
  switch (name) {
    case 'strip-www-authenticate':
      return {
        response(_req, res) {
          delete res.headers['www-authenticate'];
        },
      };
    case 'prm-resource-mismatch':
      return {
        response(req, res) {
          if (!target(req).pathname.startsWith('/.well-known/oauth-protected-resource') || res.status !== 200) return;
          const doc = jsonBody(res);
          if (typeof doc?.resource !== 'string' || !URL.canParse(doc.resource)) return;
          setJsonBody(res, { ...doc, resource: `${OTHER_RESOURCE_ORIGIN}${new URL(doc.resource).pathname}` });
        },
      };
    default:
      return {};
  }
}
