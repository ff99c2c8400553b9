/**
 * Reads the forms of a login page. The drivers only need each form's action, method and inputs from three known
 * login pages (embedded IdP, Dex, Keycloak), so a small tag scanner does the job; a DOM parser would be a
 * dependency bigger than everything else in the client for this.
 */

export interface FormField {
  readonly name: string;
  readonly value: string;
  readonly type: string;
}

export interface HtmlForm {
  /** The action attribute as written (entity-decoded); empty when absent (= the page's own URL). */
  readonly action: string;
  readonly method: string;
  readonly fields: readonly FormField[];
  /** Named submit buttons (name/value), e.g. Dex's approval button. */
  readonly buttons: readonly FormField[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  // Skip the tag name itself.
  const body = tag.replace(/^<\s*[a-zA-Z]+/, '').replace(/\/?>$/, '');
  for (const m of body.matchAll(re)) {
    const name = (m[1] as string).toLowerCase();
    out[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** All forms of an HTML page with their inputs and named buttons. */
export function parseForms(html: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form\s*>/gi)) {
    const open = /^<form\b[^>]*>/i.exec(m[0])?.[0] ?? '<form>';
    const attrs = attributes(open);
    const inner = m[1] ?? '';
    const fields: FormField[] = [];
    const buttons: FormField[] = [];
    for (const t of inner.matchAll(/<(input|button)\b[^>]*>/gi)) {
      const a = attributes(t[0]);
      if (!a.name) continue;
      const isButton = (t[1] as string).toLowerCase() === 'button';
      const type = (a.type ?? (isButton ? 'submit' : 'text')).toLowerCase();
      const field = { name: a.name, value: a.value ?? '', type };
      if (type === 'submit' || type === 'image') buttons.push(field);
      else if (type !== 'button' && type !== 'reset') {
        if ((type === 'checkbox' || type === 'radio') && !('checked' in a)) continue;
        fields.push(field);
      }
    }
    forms.push({ action: attrs.action ?? '', method: (attrs.method ?? 'get').toLowerCase(), fields, buttons });
  }
  return forms;
}
