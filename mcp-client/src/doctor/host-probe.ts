/**
 * One request with a chosen Host header, over node:http (fetch treats Host as a forbidden header and drops it).
 * Used only for loopback http servers (transport-host); the answer is a real Response.
 */
import { request } from 'node:http';
import type { HostProbe } from './context.ts';

const TIMEOUT_MS = 5_000;

export const nodeHostProbe: HostProbe = (url, host, init) =>
  new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== 'http:') {
      reject(new Error('the Host probe speaks plain http to loopback servers only'));
      return;
    }
    const req = request(u, { method: init.method, headers: { ...init.headers, host }, timeout: TIMEOUT_MS }, (res) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
      }
      // Only the status matters; the body is not read (an SSE answer would never end).
      res.destroy();
      const status = res.statusCode ?? 0;
      resolve(new Response(null, { status: status >= 200 && status <= 599 ? status : 502, headers }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(init.body);
  });
