/**
 * The live sequence diagram: the run's step events (the CLI's `--json` shape) written as a mermaid
 * sequenceDiagram and rendered to SVG after every step. Everything drawn is already redacted by the recorder.
 */
import mermaid from 'mermaid';
import type { HttpRecord, StepEvent } from 'mcp-lab-client/browser';

export interface Parties {
  readonly page: string;
  readonly rs: string;
  /** The authorization server's origin, once known. */
  as?: string;
}

mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral', sequence: { showSequenceNumbers: true, wrap: true, width: 260, messageFontSize: 13, noteFontSize: 12 } });

/** Mermaid's entity escapes for the characters its message grammar gives a meaning. */
function text(s: string, max = 90): string {
  const cut = s.length > max ? `${s.slice(0, max - 1)}…` : s;
  return cut.replace(/[#;<>]/g, (c) => `#${c.charCodeAt(0)};`).replace(/[\r\n]+/g, ' ');
}

function party(url: string, p: Parties): 'Page' | 'RS' | 'AS' {
  const origin = URL.parse(url)?.origin;
  if (origin === p.rs) return 'RS';
  if (origin === p.page) return 'Page';
  return 'AS';
}

function pathOf(url: string): string {
  const u = URL.parse(url);
  return u ? `${u.pathname}${u.search}` : url;
}

const SHOWN_HEADERS = ['www-authenticate', 'location', 'mcp-session-id', 'authorization', 'credentials'];

function exchange(h: HttpRecord, p: Parties): string[] {
  const to = party(h.url, p);
  // A request to the page itself is the authorization server's redirect arriving at /callback.
  if (to === 'Page') return [`AS-->>Page: ${text(`redirect → GET ${pathOf(h.url)}`, 140)}`];
  const from = 'Page';
  const sent = h.headers.authorization ? ` [${h.headers.authorization}]` : h.headers.credentials ? ` [${h.headers.credentials}]` : '';
  const got = SHOWN_HEADERS.filter((n) => n !== 'authorization' && n !== 'credentials' && h.headers[n] !== undefined).map((n) => `${n}: ${h.headers[n]}`);
  return [
    `${from}->>${to}: ${text(`${h.method} ${pathOf(h.url)}${sent}`)}`,
    `${to}-->>${from}: ${text(`${h.status}${got.length ? ` ${got.join(' · ')}` : ''}`, 140)}`,
  ];
}

/** The mermaid source for the events so far. */
export function sequenceSource(events: readonly StepEvent[], p: Parties): string {
  const lines = ['sequenceDiagram', `  participant Page as Page ${text(p.page)}`, `  participant RS as MCP server ${text(p.rs)}`, `  participant AS as Authorization server${p.as ? ` ${text(p.as)}` : ''}`];
  for (const e of events) {
    const via = typeof e.data.transport === 'string' ? ` (${e.data.transport}, ${String(e.data.auth)})` : '';
    const failed = e.checks.filter((c) => !c.ok);
    const mark = e.status === 'ok' ? '✓' : '✗';
    lines.push(`  Note over Page: ${text(`${mark} ${e.step}${via} · ${e.ms} ms${failed.length && e.status === 'fail' ? ` · ${failed.map((c) => c.name).join(', ')}` : ''}`)}`);
    if (e.step === 'authorize' && typeof e.data.navigate === 'string') {
      lines.push(`  Page->>AS: ${text(`navigate GET ${pathOf(e.data.navigate)}`)}`, '  Note over AS: the user signs in');
    }
    for (const h of e.http) lines.push(...exchange(h, p).map((l) => `  ${l}`));
  }
  return lines.join('\n');
}

let renders = 0;
let queue: Promise<void> = Promise.resolve();

/** Renders into `target`, one render at a time, latest events last. */
export function drawSequence(target: HTMLElement, events: readonly StepEvent[], p: Parties): Promise<void> {
  const source = sequenceSource(events, p);
  queue = queue.then(async () => {
    const { svg } = await mermaid.render(`sequence-${++renders}`, source);
    target.innerHTML = svg;
    target.dataset.renders = String(renders);
    target.dataset.steps = String(events.length);
  }, () => undefined);
  return queue;
}
