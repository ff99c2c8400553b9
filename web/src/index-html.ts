/** The one HTML document, for `/` and `/callback`; the bundle does the rest. */
import { PAGE_PATHS, type PageConfig } from './page-config.ts';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function indexHtml(page: PageConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MCP authorization lab — browser client (${escapeHtml(page.idpName)})</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{padding:.8rem 1.2rem;background:#243447;color:#fff}
header h1{font-size:1.15rem;margin:0}
header p{margin:.2rem 0 0;font-size:.85rem;opacity:.85}
main{display:grid;grid-template-columns:minmax(18rem,26rem) 1fr;gap:1rem;padding:1rem 1.2rem}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem}
h2{font-size:1rem;margin:.1rem 0 .6rem}
button{font:inherit;padding:.4rem .9rem;margin:0 .4rem .4rem 0;border-radius:4px;border:1px solid #243447;background:#243447;color:#fff;cursor:pointer}
button:disabled{opacity:.45;cursor:default}
#status{font-weight:600}
#status.fail,#unsupported{color:#a31515}
ol#steps{padding-left:1.2rem;margin:0;font-size:.85rem}
ol#steps li.fail{color:#a31515}
ol#steps ul{padding-left:1rem;margin:.1rem 0 .3rem;color:#555}
pre{white-space:pre-wrap;word-break:break-all;font-size:.8rem;background:#f3f3f3;padding:.4rem;border-radius:4px;margin:.3rem 0}
#diagram{overflow:auto}
#diagram svg{max-width:none}
</style>
</head>
<body>
<header>
<h1>MCP authorization lab — browser client</h1>
<p>IdP profile <strong>${escapeHtml(page.idpName)}</strong> · MCP server <code>${escapeHtml(page.rsUrl)}</code> · every exchange drawn as it happens, tokens cut to 6 characters</p>
</header>
<main>
<div>
<section>
<h2>Run</h2>
<button id="run" type="button" disabled>Connect and call whoami</button>
<button id="logout" type="button" disabled>Log out (DELETE /session)</button>
<p id="status" role="status">Ready.</p>
<p id="unsupported" hidden></p>
<h3>Cookie session over HTTP+SSE (EventSource)</h3>
<pre id="sse-result">—</pre>
<h3>Bearer over Streamable HTTP (fetch)</h3>
<pre id="http-result">—</pre>
</section>
<section>
<h2>Steps</h2>
<ol id="steps"></ol>
</section>
</div>
<section>
<h2>Sequence</h2>
<div id="diagram"></div>
</section>
</main>
<script type="module" src="${PAGE_PATHS.assets}main.js"></script>
</body>
</html>
`;
}
