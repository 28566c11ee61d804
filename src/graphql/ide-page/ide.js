// gymgraph's GraphQL IDE: Ruru (a GraphiQL 5 distribution, served from node_modules/ruru/static by the
// service itself) with a fetcher of ours, so that the token of the bar above goes out as
// `Authorization: Bearer` over HTTP and in `connection_init` over WebSocket (graphql-ws, same path),
// and never enters GraphiQL's editors, history or local storage. Plain ES module, no build step.

const ENDPOINT = '/graphql';
const TOKEN_KEY = 'gymgraph.token';
const DEFAULT_QUERY = `# Ctrl+Enter runs; the docs are behind the book icon.
query Studios {
  studios { id name status }
}

# Over WebSocket: run it, then send a webhook.
subscription Events {
  events { seq type entityId occurredAt studio { name } }
}
`;

const $ = (id) => document.getElementById(id);
const tokenInput = $('gg-token');
const status = $('gg-status');
const prompt = $('gg-prompt');
const root = $('ruru-root');

/** Monaco's workers, from our own origin (CSP `worker-src 'self'`). */
globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    const file = label === 'json' ? 'jsonWorker.js' : label === 'graphql' ? 'graphqlWorker.js' : 'editorWorker.js';
    return new Worker(new URL(`ruru/${file}`, import.meta.url), { type: 'module' });
  },
};

function readToken() {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return ''; // storage disabled: type it each time
  }
}

function keepToken(token) {
  try {
    window.sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    /* storage disabled */
  }
}

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('gg-error', isError);
}

/** The operation that will run: the named one, or the only one. */
function operationOf(params, options) {
  const definitions = options?.documentAST?.definitions ?? [];
  const operations = definitions.filter((d) => d.kind === 'OperationDefinition');
  const chosen = params.operationName ? operations.find((d) => d.name?.value === params.operationName) : operations[0];
  if (chosen) return chosen.operation;
  return /^\s*subscription\b/.test(String(params.query).replace(/#[^\n]*/g, '')) ? 'subscription' : 'query';
}

/** Headers typed in GraphiQL's headers editor, as plain strings (they win over the token bar). */
function editorHeaders(options) {
  const headers = {};
  for (const [name, value] of Object.entries(options?.headers ?? {})) headers[name.toLowerCase()] = String(value);
  return headers;
}

/**
 * GraphiQL's fetcher for one token: queries and mutations POST to /graphql, subscriptions go over
 * one lazy graphql-ws client (closed when the token changes).
 */
function makeFetcher(token) {
  let client;
  const fetcher = (params, options) => {
    const headers = { authorization: `Bearer ${token}`, ...editorHeaders(options) };
    if (operationOf(params, options) === 'subscription') {
      client ??= window.graphqlWs.createClient({
        url: new URL(ENDPOINT, window.location.href).href.replace(/^http/, 'ws'),
        connectionParams: () => ({ authorization: headers.authorization }),
        lazy: true,
        retryAttempts: 0,
        on: {
          closed: (event) => {
            if (event?.code === 4403) say('Token refused by the WebSocket (4403): check it', true);
          },
        },
      });
      return client.iterate({
        query: params.query,
        variables: params.variables ?? undefined,
        operationName: params.operationName ?? undefined,
      });
    }
    return fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
      body: JSON.stringify(params),
    }).then(async (response) => {
      if (response.status === 401) say('Token refused (401): unknown or revoked', true);
      else if (params.operationName === 'IntrospectionQuery' && response.ok) say('Schema loaded');
      return response.json();
    });
  };
  fetcher.dispose = () => client?.dispose();
  return fetcher;
}

const ruru = import('./ruru/ruru.js');
let mounted;
let fetcher;
let generation = 0;

async function useToken(token) {
  if (!token) {
    say('Enter a token to load the schema', true);
    prompt.hidden = false;
    root.hidden = true;
    return;
  }
  keepToken(token);
  say('Loading the schema…');
  const { React, createRoot, Ruru } = await ruru;
  fetcher?.dispose();
  fetcher = makeFetcher(token);
  prompt.hidden = true;
  root.hidden = false;
  mounted ??= createRoot(root);
  // A new key per token: GraphiQL mounts afresh and introspects with the new fetcher.
  generation += 1;
  mounted.render(
    React.createElement(Ruru, {
      key: generation,
      endpoint: ENDPOINT,
      fetcher,
      defaultQuery: DEFAULT_QUERY,
      debugTools: [],
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      showPersistHeadersSettings: false,
    }),
  );
}

tokenInput.value = readToken();
$('gg-token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void useToken(tokenInput.value.trim());
});
void useToken(tokenInput.value.trim());
