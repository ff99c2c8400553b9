/**
 * `--mermaid`: a Mermaid sequence diagram of a run, with four participants: the client, the MCP server (RS), the
 * authorization server (AS) and the browser (the login at the authorization endpoint, headless or not).
 */
import type { StepName } from '../events.ts';
import type { Trace, TracedExchange } from './trace.ts';

type Participant = 'Client' | 'RS' | 'AS' | 'Browser';

const DECLARATIONS = ['participant Client as mcp-lab-client', 'participant Browser as browser', 'participant RS as MCP server (RS)', 'participant AS as authorization server (AS)'];

/** Mermaid message text: no line breaks, and `;` / `#` (statement separator, entity prefix) as entity codes. */
function text(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/#/g, '#35;').replace(/;/g, '#59;');
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return url;
  }
}

/** Who sent a request: the browser during authorize (the login), the client otherwise. */
function sender(step: StepName | undefined): Participant {
  return step === 'authorize' ? 'Browser' : 'Client';
}

/** The diagram (text, starting with `sequenceDiagram`). */
export function toMermaid(trace: Trace): string {
  const rsOrigin = URL.canParse(trace.serverUrl) ? new URL(trace.serverUrl).origin : undefined;
  const lines = ['sequenceDiagram', ...DECLARATIONS.map((d) => `  ${d}`)];
  const exchange = (record: TracedExchange['record'], step: StepName | undefined) => {
    const origin = URL.canParse(record.url) ? new URL(record.url).origin : undefined;
    const to: Participant = origin !== undefined && origin === rsOrigin ? 'RS' : 'AS';
    const from = sender(step);
    const label = record.purpose ? ` (${record.purpose})` : '';
    lines.push(`  ${from}->>${to}: ${text(`${record.method} ${pathOf(record.url)}${label}`)}`);
    const location = record.headers.location;
    lines.push(`  ${to}-->>${from}: ${text(`${record.status || 'no answer'}${location ? ` → ${pathOf(location)}` : ''}`)}`);
  };
  for (const e of trace.entries) {
    if (e.type === 'http') {
      exchange(e.exchange, undefined);
      continue;
    }
    if (e.type !== 'step') continue;
    const step = e.event.step;
    lines.push(`  Note over Client,AS: ${text(`${step}${e.event.status === 'fail' ? ' (failed)' : ''}`)}`);
    // The authorization response reaches the client through the browser's redirect to the loopback listener.
    if (step === 'callback') lines.push('  Browser->>Client: redirect to the loopback redirect_uri (code, state, iss)');
    for (const record of e.event.http) exchange(record, step);
  }
  return `${lines.join('\n')}\n`;
}
