/**
 * The legacy HTTP+SSE transport (MCP 2024-11-05), opened before its MCP server exists: GET /sse starts the
 * stream (headers and the `endpoint` event) at once, and the server is connected on the session's first
 * message. A held stream then costs a socket and this small object, not an McpServer (~13 KiB of heap each).
 */
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';

/** An SSEServerTransport whose `start()` may run early; the second call, from `McpServer.connect`, is a no-op. */
export class EarlyStartSseTransport extends SSEServerTransport {
  #started: Promise<void> | undefined;

  override start(): Promise<void> {
    this.#started ??= super.start();
    return this.#started;
  }
}
