/**
 * The one era decision (mcp/era.ts) against the official v2 SDK's body-primary classifier: for every shape of
 * request, the era we pick is the one the SDK's modern path would own (its rejections included) or leave to 2025.
 */
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { requestEra } from '../src/mcp/era.ts';
import { MODERN_META } from './helpers.ts';

const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } };
const modernCall = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami', _meta: MODERN_META } };
const plainCall = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'whoami' } };

const cases: Array<{ name: string; method: string; version?: string; body?: unknown; era: 'modern' | 'legacy' }> = [
  { name: 'initialize', method: 'POST', body: init, era: 'legacy' },
  { name: 'initialize with a 2025 version header', method: 'POST', version: '2025-11-25', body: init, era: 'legacy' },
  { name: 'a 2025 session call', method: 'POST', version: '2025-11-25', body: plainCall, era: 'legacy' },
  { name: 'a 2025 call without a version header', method: 'POST', body: plainCall, era: 'legacy' },
  { name: 'a 2025 notification', method: 'POST', version: '2025-11-25', body: { jsonrpc: '2.0', method: 'notifications/initialized' }, era: 'legacy' },
  { name: 'an all-2025 batch', method: 'POST', body: [plainCall, plainCall], era: 'legacy' },
  { name: 'GET (a 2025 session stream)', method: 'GET', era: 'legacy' },
  { name: 'DELETE (ending a 2025 session)', method: 'DELETE', era: 'legacy' },
  { name: 'a 2026-07-28 call', method: 'POST', version: '2026-07-28', body: modernCall, era: 'modern' },
  { name: 'a 2026-07-28 call without the version header (rejected -32020 by the modern path)', method: 'POST', body: modernCall, era: 'modern' },
  { name: 'a 2026-07-28 call with a 2025 version header (rejected -32020)', method: 'POST', version: '2025-11-25', body: modernCall, era: 'modern' },
  { name: 'a modern version header on a body without the envelope (rejected -32602)', method: 'POST', version: '2026-07-28', body: plainCall, era: 'modern' },
  {
    name: 'an envelope naming a future revision (rejected -32022)',
    method: 'POST',
    version: '2099-01-01',
    body: { ...modernCall, params: { name: 'whoami', _meta: { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } },
    era: 'modern',
  },
  {
    name: 'an envelope missing clientCapabilities (rejected -32602)',
    method: 'POST',
    version: '2026-07-28',
    body: { ...modernCall, params: { name: 'whoami', _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } },
    era: 'modern',
  },
  { name: 'a batch with a modern element (rejected)', method: 'POST', version: '2026-07-28', body: [modernCall, plainCall], era: 'modern' },
];

describe('requestEra', () => {
  it.each(cases)('$name → $era', ({ method, version, body, era }) => {
    const headers = version !== undefined ? { 'mcp-protocol-version': version } : {};
    expect(requestEra({ method, headers, body })).toBe(era);
  });

  it.each(cases)('$name: the SDK classifier agrees', ({ method, version, body, era }) => {
    const sdk = classifyInboundRequest({
      httpMethod: method,
      ...(version !== undefined ? { protocolVersionHeader: version } : {}),
      ...(body !== undefined ? { body } : {}),
    });
    // The SDK either routes the request to its legacy leg, or owns it on the modern path (serving or rejecting it).
    expect(sdk.kind === 'legacy' ? 'legacy' : 'modern').toBe(era);
  });
});
