/** The RS's MCP identity (`serverInfo`), the same in both eras and on the lean path. */
export const SERVER_INFO = Object.freeze({ name: 'mcp-lab-notes', version: '0.1.0' });
