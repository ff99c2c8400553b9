/**
 * The CLI's help texts, one per command.
 */
import { DOCTOR_USAGE } from '../doctor/args.ts';

export type HelpTopic = 'main' | 'connect' | 'tools' | 'call' | 'logout' | 'doctor';

export const USAGE: Readonly<Record<HelpTopic, string>> = {
  main: `Usage: mcp-lab-client <command> [options]

Commands:
  connect <url>              probe → discovery → registration → authorization → initialize → tools/list
                             (add --call <tool> [--args json] to call a tool)
  tools <url>                the same, ending with the tool list
  call <url> <tool> [json]   the same, ending with one tool call
  logout [url]               forget stored tokens (of one MCP server, or all)
  doctor <url>               diagnose an MCP server's authorization setup (checks: docs/errors.md)

Run "mcp-lab-client <command> --help" for the options of a command.
`,
  connect: `Usage: mcp-lab-client connect <url> [options]

Runs the whole MCP authorization sequence and shows every step. A repeat run uses the stored token and skips
discovery; --fresh shows the whole sequence again.

Options:
  --transport http|sse       Streamable HTTP (default) or legacy HTTP+SSE
  --protocol-era auto|modern|legacy
                             auto (default): server/discover, else initialize; modern: 2026-07-28 only
                             (stateless); legacy: 2025-11-25 initialize and a session
  --cookie                   (sse only) exchange the token for a session cookie via POST /session
  --login user:password      log in headlessly instead of opening a browser
  --login-driver NAME        auto (default), embedded, dex, keycloak
  --client-id ID             use a pre-registered client
  --client-secret SECRET     its secret (confidential client)
  --client-metadata-url URL  https URL of this client's metadata document (CIMD client_id)
  --scope "a b"              request these scopes instead of the server's challenge
  --authorize-param K=V      an extra authorization request parameter, repeatable (e.g. Auth0's
                             audience=https://api.example); the OAuth and PKCE parameters cannot be overridden
  --call TOOL                call a tool after listing
  --args JSON                arguments for --call (a JSON object)
  --fresh                    ignore stored tokens: probe, discovery and a new authorization
                             (a stored client registration is still used)
  --store DIR                token store directory (default $MCP_LAB_CLIENT_HOME or ~/.config/mcp-lab-client)
  --json                     one JSON object per step on stdout
  --trace-out FILE           write the run as JSON lines
  --mermaid FILE             write a Mermaid sequence diagram of the run
  --har FILE                 write the HTTP exchanges as HAR 1.2 (credentials redacted)
  -h, --help                 this help
`,
  tools: `Usage: mcp-lab-client tools <url> [options]

Authorizes (reusing a stored token when there is one) and lists the server's tools.
Options: as for "connect" (--transport, --cookie, --login, --login-driver, --client-id, --client-secret,
--client-metadata-url, --scope, --fresh, --store, --json, --trace-out, --mermaid, --har).
`,
  call: `Usage: mcp-lab-client call <url> <tool> [json-args] [options]

Authorizes (reusing a stored token when there is one) and calls one tool. A 403 insufficient_scope
triggers a step-up authorization (at most twice).
Options: as for "connect" (except --call and --args).
`,
  logout: `Usage: mcp-lab-client logout [url] [--store DIR] [--json]

Forgets stored tokens: those for the MCP server at <url>, or all of them. Client registrations are kept.
`,
  doctor: DOCTOR_USAGE,
};
