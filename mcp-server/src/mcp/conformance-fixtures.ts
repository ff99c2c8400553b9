/**
 * The diagnostic tools the official `conformance server` suite calls by name (`test_simple_text`, …), registered
 * only in the lab's conformance mode (`MCP_CONFORMANCE_FIXTURES=true`, set by `npm start -- --conformance`). They are
 * ordinary tools behind the same authentication as every other request: the mode adds tools, it never removes a
 * check. Behaviour follows the scenario descriptions of @modelcontextprotocol/conformance 0.2.0-alpha.12.
 *
 * One table, registered into both eras' servers: the v1 SDK server of 2025 sessions and the v2 SDK server of
 * 2026-07-28 requests. Multi-round-trip input (`inputRequired`) and per-request log levels exist only in the v2
 * SDK, so the tools that exercise them are modern-only.
 */
import type { McpServer as LegacyMcpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { inputRequired } from '@modelcontextprotocol/server';
import type { McpServer as ModernMcpServer } from '@modelcontextprotocol/server';
import { SetLevelRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** A 1×1 red PNG. */
const TEST_IMAGE_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
/** A WAV header with no samples. */
const TEST_AUDIO_BASE64 = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=';

/** What a fixture may do while it runs, whichever SDK serves it. */
interface FixtureIo {
  readonly progressToken: string | number | undefined;
  notify(method: string, params: Record<string, unknown>): Promise<void>;
}

interface Fixture {
  readonly description: string;
  run(io: FixtureIo): Promise<CallToolResult>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const FIXTURES: Readonly<Record<string, Fixture>> = {
  test_simple_text: {
    description: 'Tests simple text content response',
    run: async () => ({ content: [{ type: 'text', text: 'This is a simple text response for testing.' }] }),
  },
  test_image_content: {
    description: 'Tests image content response',
    run: async () => ({ content: [{ type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' }] }),
  },
  test_audio_content: {
    description: 'Tests audio content response',
    run: async () => ({ content: [{ type: 'audio', data: TEST_AUDIO_BASE64, mimeType: 'audio/wav' }] }),
  },
  test_embedded_resource: {
    description: 'Tests embedded resource content response',
    run: async () => ({
      content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
    }),
  },
  test_multiple_content_types: {
    description: 'Tests response with multiple content types (text, image, resource)',
    run: async () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } },
      ],
    }),
  },
  test_error_handling: {
    description: 'Tests error response handling',
    run: async () => {
      throw new Error('This tool intentionally returns an error for testing');
    },
  },
  test_tool_with_progress: {
    description: 'Tests tool that reports progress notifications',
    run: async (io) => {
      // Progress only for a client-supplied token (the spec forbids it otherwise).
      if (io.progressToken !== undefined) {
        for (const progress of [0, 50, 100]) {
          await io.notify('notifications/progress', { progressToken: io.progressToken, progress, total: 100, message: `Completed step ${progress} of 100` });
          if (progress < 100) await sleep(50);
        }
      }
      return { content: [{ type: 'text', text: String(io.progressToken ?? 'no-progress-token') }] };
    },
  },
  test_streaming_elicitation: {
    description: 'SEP-2575: yields a response stream carrying no independent top-level JSON-RPC requests',
    run: async () => ({ content: [{ type: 'text', text: 'stream observed: result frames only, no top-level requests' }] }),
  },
};

/** 2025 only: log notifications on the request's stream (2026-07-28 gates them on the per-request log level). */
const LEGACY_ONLY: Readonly<Record<string, Fixture>> = {
  test_tool_with_logging: {
    description: 'Tests tool that emits log messages during execution',
    run: async (io) => {
      for (const data of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
        await io.notify('notifications/message', { level: 'info', data });
        await sleep(20);
      }
      return { content: [{ type: 'text', text: 'Tool with logging executed successfully' }] };
    },
  },
};

function progressTokenOf(meta: unknown): string | number | undefined {
  const token = (meta as { progressToken?: unknown } | undefined)?.progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/** Registers the fixtures into a 2025 session's (v1 SDK) server, with the `logging` capability they exercise. */
export function registerLegacyFixtures(server: LegacyMcpServer): void {
  // 2025 `logging/setLevel` (removed in 2026-07-28): accepted; the fixtures log at every level anyway.
  server.server.registerCapabilities({ logging: {} });
  server.server.setRequestHandler(SetLevelRequestSchema, async () => ({}));
  for (const [name, fixture] of Object.entries({ ...FIXTURES, ...LEGACY_ONLY })) {
    server.registerTool(name, { description: fixture.description, inputSchema: {} }, async (_args, extra) =>
      fixture.run({
        progressToken: progressTokenOf(extra._meta),
        notify: (method, params) => extra.sendNotification({ method, params } as Parameters<typeof extra.sendNotification>[0]),
      }),
    );
  }
}

/** Registers the fixtures into a 2026-07-28 (v2 SDK) server, with the modern-only ones. */
export function registerModernFixtures(server: ModernMcpServer): void {
  for (const [name, fixture] of Object.entries(FIXTURES)) {
    server.registerTool(name, { description: fixture.description, inputSchema: z.object({}) }, async (_args, ctx) =>
      fixture.run({
        progressToken: progressTokenOf(ctx.mcpReq._meta),
        notify: (method, params) => ctx.mcpReq.notify({ method, params } as Parameters<typeof ctx.mcpReq.notify>[0]),
      }),
    );
  }
  // Needs the client's `sampling` capability (an MRTR createMessage input request): without it, -32021 over 400.
  server.registerTool(
    'test_missing_capability',
    { description: 'SEP-2575: requires the `sampling` client capability', inputSchema: z.object({}) },
    async (_args, ctx) => {
      if (ctx.mcpReq.inputResponses?.['llm_answer'] === undefined) {
        return inputRequired({
          inputRequests: {
            llm_answer: inputRequired.createMessage({
              messages: [{ role: 'user', content: { type: 'text', text: 'Reply with the single word: pong' } }],
              maxTokens: 16,
            }),
          },
        });
      }
      return { content: [{ type: 'text', text: 'sampling round-trip complete' }] };
    },
  );
  // Logs through the request-scoped channel, which the SDK delivers only when the request set a log level.
  server.registerTool(
    'test_logging_tool',
    { description: 'SEP-2575: logs only when the request set _meta logLevel', inputSchema: z.object({}) },
    async (_args, ctx) => {
      await ctx.mcpReq.log('info', 'test_logging_tool ran');
      return { content: [{ type: 'text', text: 'logged through the request-scoped, logLevel-gated channel' }] };
    },
  );
}
