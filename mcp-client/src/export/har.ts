/**
 * `--har`: the run's HTTP exchanges as an HTTP Archive 1.2 log. Only what the client recorded is in it: selected
 * headers, credentials already redacted (Authorization, Cookie, Set-Cookie, codes and tokens in URLs), bodies
 * only as the doctor's masked excerpts.
 */
import { REQUEST_HEADERS } from '../http.ts';
import { exchangesOf, type Trace } from './trace.ts';

const REQUEST_SET = new Set<string>(REQUEST_HEADERS);

interface HarHeader {
  readonly name: string;
  readonly value: string;
}

function queryString(url: string): HarHeader[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

/** The HAR document (a plain object; JSON.stringify it). */
export function toHar(trace: Trace, creatorVersion: string): Record<string, unknown> {
  const entries = exchangesOf(trace).map(({ record, step }) => {
    const requestHeaders: HarHeader[] = [];
    const responseHeaders: HarHeader[] = [];
    for (const [name, value] of Object.entries(record.headers)) (REQUEST_SET.has(name) || name === 'host' ? requestHeaders : responseHeaders).push({ name, value });
    const ms = record.ms ?? 0;
    const contentType = record.headers['content-type'] ?? '';
    const comment = [step ? `step ${step}` : undefined, record.purpose].filter(Boolean).join(': ');
    return {
      startedDateTime: record.startedAt ?? new Date(0).toISOString(),
      time: ms,
      request: {
        method: record.method,
        url: record.url,
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: requestHeaders,
        queryString: queryString(record.url),
        headersSize: -1,
        bodySize: -1,
      },
      response: {
        status: record.status,
        statusText: '',
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: responseHeaders,
        content: { size: -1, mimeType: contentType, ...(record.body ? { text: record.body } : {}) },
        redirectURL: record.headers.location ?? '',
        headersSize: -1,
        bodySize: -1,
      },
      cache: {},
      timings: { send: 0, wait: ms, receive: 0 },
      ...(comment ? { comment } : {}),
    };
  });
  return { log: { version: '1.2', creator: { name: 'mcp-lab-client', version: creatorVersion }, entries } };
}
