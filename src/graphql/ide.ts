import { createHash } from 'node:crypto';

/**
 * A tiny query page served to browsers at `GET /graphql`: a token box, a query box, a variables box
 * and a Run button that POSTs to this same path (with `Authorization: Bearer <token>`) and
 * pretty-prints the JSON answer. Self-contained (inline style and script, no external URL), so it
 * works offline and leaks nothing to a CDN. The token is kept in `sessionStorage`: it survives a
 * reload but not the closing of the tab, and is never written into the page or the URL.
 */

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 1rem; background: #fafafa; color: #222; }
h1 { font-size: 1.1rem; margin: 0 0 .75rem; }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
label { display: block; font-weight: 600; margin: .5rem 0 .25rem; }
textarea, pre, input { box-sizing: border-box; width: 100%; font: 13px/1.4 ui-monospace, monospace; border: 1px solid #ccc; border-radius: 4px; padding: .5rem; background: #fff; }
#query { height: 45vh; }
#variables { height: 15vh; }
#token { padding: .4rem .5rem; }
pre { min-height: 65vh; margin: 0; overflow: auto; white-space: pre-wrap; }
button { margin-top: .5rem; padding: .4rem 1.2rem; font-weight: 600; cursor: pointer; }
#status { margin-left: .75rem; color: #666; }
.error { color: #b00020; }
`;

const SCRIPT = `
(function () {
  var query = document.getElementById('query');
  var variables = document.getElementById('variables');
  var result = document.getElementById('result');
  var status = document.getElementById('status');
  var run = document.getElementById('run');
  var token = document.getElementById('token');
  var TOKEN_KEY = 'gymgraph.token';
  try { token.value = window.sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { /* storage disabled: type it each time */ }
  token.addEventListener('input', function () {
    try { window.sessionStorage.setItem(TOKEN_KEY, token.value.trim()); } catch (e) { /* storage disabled */ }
  });
  function show(text, isError) {
    result.textContent = text;
    result.className = isError ? 'error' : '';
  }
  function execute() {
    var vars = {};
    if (variables.value.trim() !== '') {
      try { vars = JSON.parse(variables.value); } catch (e) { show('Variables are not valid JSON: ' + e.message, true); return; }
    }
    run.disabled = true;
    status.textContent = 'running...';
    var started = Date.now();
    var headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
    var bearer = token.value.trim();
    if (bearer !== '') headers.authorization = 'Bearer ' + bearer;
    fetch(window.location.pathname, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify({ query: query.value, variables: vars })
    }).then(function (response) {
      return response.text().then(function (text) {
        status.textContent = 'HTTP ' + response.status + ' in ' + (Date.now() - started) + ' ms';
        try { show(JSON.stringify(JSON.parse(text), null, 2), !response.ok); } catch (e) { show(text, true); }
      });
    }).catch(function (e) {
      status.textContent = '';
      show('Request failed: ' + e.message, true);
    }).then(function () { run.disabled = false; });
  }
  run.addEventListener('click', execute);
  document.addEventListener('keydown', function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') { event.preventDefault(); execute(); }
  });
})();
`;

/** The page. */
export const IDE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gymgraph GraphQL</title>
<style>${STYLE}</style>
</head>
<body>
<h1>gymgraph GraphQL</h1>
<main>
<section>
<label for="token">Token (sent as Authorization: Bearer; kept for this tab only)</label>
<input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="ggt_...">
<label for="query">Query</label>
<textarea id="query" spellcheck="false">{
  eventTypes {
    name
    entity
    description
  }
}</textarea>
<label for="variables">Variables (JSON)</label>
<textarea id="variables" spellcheck="false">{}</textarea>
<button id="run" type="button">Run</button><span id="status">Ctrl+Enter runs the query</span>
</section>
<section>
<label for="result">Result</label>
<pre id="result"></pre>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The page's Content-Security-Policy: only its own inline style and script (by hash), and requests
 * to this origin; nothing else loads, even if the page were tampered with on the way.
 */
export const IDE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
