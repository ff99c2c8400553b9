/** Per-route settings the error handler reads to name the right metadata document in challenges. */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** Path of the protected endpoint ('' = the RS root); the challenge names its RFC 9728 document. */
    resourcePath?: '' | '/mcp' | '/sse';
  }
}
export {};
