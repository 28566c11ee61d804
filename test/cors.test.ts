import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import WebSocket from 'ws';
import { TokenService } from '../src/domains/access/token.service.js';
import { CORS_MAX_AGE_SECONDS } from '../src/http/cors.js';
import { describeWithBrowser, launchBrowser, openPage } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';
import { until, wsUrl } from './support/ws.js';
import type { Browser } from 'playwright-core';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const APP = 'http://app.example.test:5173';
const FOREIGN = 'https://evil.example.test';
/** Nine aggregates: 9 x 1,001 points (QUERY_COSTS.aggregate + 1 each); the second is over a budget of 10,000 a minute. */
const NINE_AGGREGATES = `{ ${Array.from({ length: 9 }, (_, i) => `o${i}: occupancy { total }`).join(' ')} }`;

function preflight(url: string, origin: string | undefined, path = '/graphql'): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'OPTIONS',
    headers: {
      ...(origin === undefined ? {} : { origin }),
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
}

function post(url: string, origin: string, token: string | undefined, query = '{ __typename }'): Promise<Response> {
  return fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query }),
  });
}

const list = (value: string | null) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);

/** Opens a WebSocket to the service's /graphql, sending `origin` (none: not sent); resolves with the upgrade's outcome. */
function upgrade(url: string, origin: string | undefined): Promise<{ opened: true } | { opened: false; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl(url), 'graphql-transport-ws', origin === undefined ? {} : { origin });
    socket.once('open', () => {
      socket.close();
      resolve({ opened: true });
    });
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      socket.terminate();
      resolve({ opened: false, status: res.statusCode ?? 0 });
    });
    socket.once('error', reject);
  });
}

describe('CORS on /graphql (CORS_ORIGINS listing an origin)', () => {
  let server: TestServer;
  let partnerToken: string;

  beforeAll(async () => {
    server = await startTestServer('sqlite', {
      ADMIN_TOKEN,
      CORS_ORIGINS: `${APP},https://other.example.test`,
      GRAPHQL_COST_PER_MINUTE: '10000',
    });
    const studio = await server.addStudio();
    partnerToken = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [studio.id], name: 'cors' })).token;
  });
  afterAll(() => server?.stop());

  it('when a listed origin sends a preflight, then 204 with that origin, the methods and headers of GraphQL clients, a max age and Vary: Origin', async () => {
    const response = await preflight(server.app.url, APP);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(list(response.headers.get('access-control-allow-methods'))).toEqual(expect.arrayContaining(['get', 'post']));
    expect(list(response.headers.get('access-control-allow-headers'))).toEqual(
      expect.arrayContaining([
        'authorization',
        'content-type',
        'apollo-require-preflight',
        'x-apollo-operation-name',
        'graphql-client-name',
        'x-request-id',
      ]),
    );
    expect(response.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_SECONDS));
    expect(list(response.headers.get('vary'))).toContain('origin');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('when an origin not listed sends a preflight, then no Access-Control-Allow-Origin (the browser refuses), and Vary: Origin', async () => {
    const response = await preflight(server.app.url, FOREIGN);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(list(response.headers.get('vary'))).toContain('origin');
  });

  it('when a listed origin posts a query with a token, then the answer carries that origin and exposes Retry-After and X-Request-Id', async () => {
    const response = await post(server.app.url, APP, partnerToken);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(list(response.headers.get('access-control-expose-headers'))).toEqual(expect.arrayContaining(['retry-after', 'x-request-id']));
    expect(list(response.headers.get('vary'))).toContain('origin');
  });

  it('when an origin not listed posts, then the answer has no Access-Control-Allow-Origin', async () => {
    const response = await post(server.app.url, FOREIGN, partnerToken);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('when a listed origin is refused (401 without a token, 429 over the budget), then the refusal carries the CORS headers too, so the page can read it', async () => {
    const unauthenticated = await post(server.app.url, APP, undefined);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe(APP);

    let limited: Response | undefined;
    for (let i = 0; i < 5 && !limited; i++) {
      const response = await post(server.app.url, APP, partnerToken, NINE_AGGREGATES);
      if (response.status === 429) limited = response;
      else await response.arrayBuffer();
    }
    expect(limited?.status).toBe(429);
    expect(limited!.headers.get('access-control-allow-origin')).toBe(APP);
    expect(limited!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(list(limited!.headers.get('access-control-expose-headers'))).toEqual(expect.arrayContaining(['retry-after', 'x-request-id']));
  });

  it("when a request would not be preflighted (a GET without Apollo's headers), then Apollo's CSRF prevention still refuses it with 400", async () => {
    const response = await fetch(`${server.app.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { origin: FOREIGN, authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/Cross-Site Request Forgery/);
    const allowed = await fetch(`${server.app.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { origin: APP, authorization: `Bearer ${ADMIN_TOKEN}`, 'apollo-require-preflight': 'true' },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('when a page calls /webhooks, then no CORS at all (it is server-to-server)', async () => {
    const options = await preflight(server.app.url, APP, '/webhooks');
    expect(options.status).toBe(405);
    expect(options.headers.get('access-control-allow-origin')).toBeNull();
    const { status } = await server.post('unknown-key', {}, { origin: APP });
    expect(status).toBe(401);
    const response = await fetch(`${server.app.url}/webhooks`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  describe('WebSocket upgrades of /graphql', () => {
    it('when the Origin is listed, then the socket opens', async () => {
      await expect(upgrade(server.app.url, APP)).resolves.toEqual({ opened: true });
    });

    it('when the Origin is a foreign one, then 403 and no socket', async () => {
      await until(() => server.app.subscriptions.connections === 0, 5000, 'earlier sockets closed');
      await expect(upgrade(server.app.url, FOREIGN)).resolves.toEqual({ opened: false, status: 403 });
      expect(server.app.subscriptions.connections).toBe(0);
    });

    it('when there is no Origin (a server or a CLI), then the socket opens', async () => {
      await expect(upgrade(server.app.url, undefined)).resolves.toEqual({ opened: true });
    });

    it("when the Origin is the service's own (its scheme and Host), then the socket opens; another port of the same host is foreign", async () => {
      const own = new URL(server.app.url);
      await expect(upgrade(server.app.url, own.origin)).resolves.toEqual({ opened: true });
      await expect(upgrade(server.app.url, `http://${own.hostname}:${Number(own.port) + 1}`)).resolves.toEqual({
        opened: false,
        status: 403,
      });
      await expect(upgrade(server.app.url, `https://${own.host}`)).resolves.toEqual({ opened: false, status: 403 });
    });
  });
});

describe('CORS_ORIGINS unset', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
  });
  afterAll(() => server?.stop());

  it('when any origin sends a preflight or a query, then no Access-Control-Allow-Origin: no cross-origin access', async () => {
    const response = await preflight(server.app.url, APP);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const answer = await post(server.app.url, APP, ADMIN_TOKEN);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('when a WebSocket comes from a foreign origin, then 403; without an Origin, or from the service itself, it opens', async () => {
    await expect(upgrade(server.app.url, APP)).resolves.toEqual({ opened: false, status: 403 });
    await expect(upgrade(server.app.url, undefined)).resolves.toEqual({ opened: true });
    await expect(upgrade(server.app.url, new URL(server.app.url).origin)).resolves.toEqual({ opened: true });
  });
});

describe('CORS_ORIGINS=*', () => {
  let server: TestServer;
  const lines: string[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    server = await startTestServer('sqlite', { ADMIN_TOKEN, CORS_ORIGINS: '*', NODE_ENV: 'production' }, { logger });
  });
  afterAll(() => server?.stop());

  it('when NODE_ENV is production, then the start warns that any page may call the API', () => {
    const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level === 40);
    expect(warnings).toEqual(expect.arrayContaining([expect.objectContaining({ msg: expect.stringMatching(/^CORS_ORIGINS=\*/) })]));
  });

  it('when any origin calls, then its own origin is allowed, for preflights, queries and WebSockets', async () => {
    const response = await preflight(server.app.url, FOREIGN);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(FOREIGN);
    const answer = await post(server.app.url, APP, ADMIN_TOKEN);
    expect(answer.headers.get('access-control-allow-origin')).toBe(APP);
    await expect(upgrade(server.app.url, FOREIGN)).resolves.toEqual({ opened: true });
  });
});

/** A page server on 127.0.0.1 (its own port: its own origin) serving one page with a probe of the API. */
async function startPageServer(): Promise<{ origin: string; close: () => Promise<void> }> {
  const page = `<!doctype html><meta charset="utf-8"><title>probe</title><script>
    // Calls the API the way a front-end does: fetch with a bearer token, and graphql-ws over WebSocket.
    window.probe = async (api, token) => {
      const result = {};
      try {
        const response = await fetch(api + '/graphql', {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
        result.fetch = (await response.json()).data?.__typename ?? 'no data';
      } catch (error) {
        result.fetch = 'refused';
      }
      result.ws = await new Promise((resolve) => {
        const socket = new WebSocket(api.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
        socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer ' + token } }));
        socket.onmessage = (event) => { resolve(JSON.parse(event.data).type); socket.close(); };
        socket.onclose = () => resolve('refused');
      });
      return result;
    };
  </script>`;
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describeWithBrowser('a page of another origin in Chromium', () => {
  let browser: Browser;
  let allowedPage: Awaited<ReturnType<typeof startPageServer>>;
  let foreignPage: Awaited<ReturnType<typeof startPageServer>>;
  let server: TestServer;

  beforeAll(async () => {
    allowedPage = await startPageServer();
    foreignPage = await startPageServer();
    server = await startTestServer('sqlite', { ADMIN_TOKEN, CORS_ORIGINS: allowedPage.origin });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await allowedPage?.close();
    await foreignPage?.close();
  });

  const probe = async (origin: string) => {
    const { context, page, problems } = await openPage(browser);
    try {
      await page.goto(`${origin}/`);
      const result = await page.evaluate(
        ([api, token]) => (window as unknown as { probe: (a: string, t: string) => Promise<unknown> }).probe(api!, token!),
        [server.app.url, ADMIN_TOKEN],
      );
      return { result, problems };
    } finally {
      await context.close();
    }
  };

  it('when its origin is in CORS_ORIGINS, then its fetch with a bearer token and its graphql-ws WebSocket both work', async () => {
    const { result, problems } = await probe(allowedPage.origin);
    expect(result).toEqual({ fetch: 'Query', ws: 'connection_ack' });
    expect(problems).toEqual([]);
  });

  it('when its origin is not listed, then the browser refuses the fetch and the service the WebSocket', async () => {
    const { result } = await probe(foreignPage.origin);
    expect(result).toEqual({ fetch: 'refused', ws: 'refused' });
    expect(server.app.subscriptions.connections).toBe(0);
  });
});
