/**
 * What the page learns from the server that serves it (GET /lab.json): where the MCP server is and how this
 * client is registered at the IdP. Everything else (the AS, its endpoints, scopes) the page discovers.
 */
export interface PageConfig {
  /** The MCP resource server's origin; Streamable HTTP at `/mcp`, HTTP+SSE at `/sse`, cookies at `/session`. */
  readonly rsUrl: string;
  /** The IdP profile's name, for the page's title and its notes. */
  readonly idpName: string;
  /** How the page gets a client_id (MCP Client Registration order: pre-registered, CIMD, DCR). */
  readonly registration:
    | { readonly method: 'pre-registered'; readonly clientId: string; readonly confidential: boolean }
    | { readonly method: 'cimd'; readonly clientMetadataUrl: string }
    | { readonly method: 'dcr' };
}

/** The page's paths, declared once for the server and the page. */
export const PAGE_PATHS = Object.freeze({
  home: '/',
  callback: '/callback',
  config: '/lab.json',
  assets: '/assets/',
});
