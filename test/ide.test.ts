import http from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { IDE_ASSET_PREFIX } from '../src/graphql/ide.js';
import { describeWithBrowser, launchBrowser, openPage } from './support/browser.js';
import { enterToken, responseText, runOperation } from './support/ide-page.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

// A page with Monaco takes seconds to load on a busy machine: generous margins.
jest.setTimeout(120_000);

/** A raw GET (node's fetch would undo the gzip this checks). */
function get(
  url: string,
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('GET /graphql from a browser: the IDE page and its assets', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
  });
  afterAll(() => server?.stop());

  it('when a browser asks, then the page, with a CSP that allows no inline script and connects only to this origin', async () => {
    const host = new URL(server.app.url).host;
    const response = await get(`${server.app.url}/graphql`, { accept: BROWSER_ACCEPT });
    const html = response.body.toString('utf8');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html\b/);
    expect(response.headers.vary).toMatch(/\baccept\b/);
    expect(response.headers.vary).toMatch(/\borigin\b/i); // CORS's, kept
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain(`connect-src 'self' ws://${host} wss://${host};`);
    expect(csp).toContain("worker-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    // Offline: no URL of another origin, and every script is a file of ours (the CSP would block an inline one).
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('when the page names its assets, then each is served from under /graphql/ide/ with an ETag, gzip, and 304 when unchanged', async () => {
    const html = (await get(`${server.app.url}/graphql`, { accept: BROWSER_ACCEPT })).body.toString('utf8');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((url) => !url.startsWith('data:'));
    expect(assets).toEqual(
      expect.arrayContaining([`${IDE_ASSET_PREFIX}ruru/ruru.js`, `${IDE_ASSET_PREFIX}ide.js`, `${IDE_ASSET_PREFIX}graphql-ws.min.js`]),
    );
    for (const asset of assets) {
      expect(asset.startsWith(IDE_ASSET_PREFIX)).toBe(true);
      const response = await get(`${server.app.url}${asset}`, { 'accept-encoding': 'gzip, deflate, br' });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBe('gzip');
      expect(Number(response.headers['content-length'])).toBe(response.body.length);
      const etag = response.headers.etag!;
      expect(etag).toMatch(/^".+"$/);
      expect((await get(`${server.app.url}${asset}`, { 'if-none-match': etag })).status).toBe(304);
    }
  });

  it('when its script keeps the token, then in sessionStorage (this tab), never in localStorage', async () => {
    const script = (await get(`${server.app.url}${IDE_ASSET_PREFIX}ide.js`)).body.toString('utf8');
    expect(script).toContain('sessionStorage.setItem(TOKEN_KEY');
    expect(script).not.toMatch(/localStorage\s*[.[]/);
  });

  it('when the page itself is asked for again with its ETag, then 304', async () => {
    const first = await get(`${server.app.url}/graphql`, { accept: BROWSER_ACCEPT });
    const again = await get(`${server.app.url}/graphql`, { accept: BROWSER_ACCEPT, 'if-none-match': first.headers.etag! });
    expect(again.status).toBe(304);
    expect(again.headers['content-security-policy']).toBe(first.headers['content-security-policy']);
  });
});

describeWithBrowser('the GraphQL IDE in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let webhookKey: string;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
    ({ webhookKey } = await server.addStudio({ name: 'Riverside Gym' }));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Opens the IDE in a fresh context, runs `body`, and checks the page had no error and no failed request (none to a CDN, then). */
  const onIde = async (body: (page: Page) => Promise<void>, viewport?: { width: number; height: number }): Promise<void> => {
    const { context, page, problems } = await openPage(browser, viewport);
    try {
      await page.goto(`${server.app.url}/graphql`);
      await body(page);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  };

  it('when opened without a token, then it asks for one; once given, the schema loads, a query runs and the token stays in this tab only', async () => {
    await onIde(async (page) => {
      await expect(page.locator('#gg-prompt').isVisible()).resolves.toBe(true);
      await expect(page.locator('#gg-status').innerText()).resolves.toMatch(/enter a token/i);

      await enterToken(page, ADMIN_TOKEN);
      await runOperation(page, 'Studios');
      await page.locator('.graphiql-response', { hasText: 'Riverside' }).waitFor();
      expect(await responseText(page)).toMatch(/"name": "Riverside Gym"/);

      const storage = await page.evaluate(() => ({ session: JSON.stringify(sessionStorage), local: JSON.stringify(localStorage) }));
      expect(storage.session).toContain(ADMIN_TOKEN);
      expect(storage.local).not.toContain(ADMIN_TOKEN);
    });
  });

  it('when the token is refused, then the bar says so and nothing else goes wrong', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await page.goto(`${server.app.url}/graphql`);
      await page.fill('#gg-token', 'not-a-token-of-this-service');
      await page.click('#gg-token-form button[type=submit]');
      await page.locator('#gg-status.gg-error', { hasText: 'Token refused (401)' }).waitFor();
      // Chromium logs each refused request; anything else (a page error, a CSP violation) is a fault.
      expect(problems.filter((problem) => !/status of 401/.test(problem))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('when a subscription runs, then an event pushed by a webhook shows in the response pane', async () => {
    await onIde(async (page) => {
      await enterToken(page, ADMIN_TOKEN);
      const subscribed = new Promise<void>((resolve) => {
        page.on('websocket', (ws) => ws.on('framesent', (frame) => String(frame.payload).includes('"subscribe"') && resolve()));
      });
      await runOperation(page, 'Events');
      await subscribed;
      // The subscription starts listening a moment after `subscribe` is sent: post until one shows.
      const shown = page.locator('.graphiql-response', { hasText: 'IDE_PUSH_TEST' });
      for (let attempt = 0; attempt < 10 && !(await shown.isVisible()); attempt += 1) {
        expect((await server.post(webhookKey, delivery(4242, { type: 'IDE_PUSH_TEST', timestamp: Date.now() }))).status).toBe(200);
        await shown.waitFor({ timeout: 2000 }).catch(() => undefined);
      }
      expect(await responseText(page)).toMatch(/"type": "IDE_PUSH_TEST"[\s\S]*"entityId": "4242"/);
    });
  });

  it("when the docs explorer is opened, then it shows the schema's types", async () => {
    await onIde(async (page) => {
      await enterToken(page, ADMIN_TOKEN);
      await page.getByRole('button', { name: /documentation explorer/i }).click();
      const docs = page.locator('.graphiql-doc-explorer');
      await docs.getByRole('link', { name: 'Query' }).first().click();
      await docs.locator('.graphiql-doc-explorer-title', { hasText: 'Query' }).waitFor();
      await expect(docs.innerText()).resolves.toContain('studios');
    });
  });

  it("when the viewport is a phone's (390 px), then the page does not scroll sideways", async () => {
    await onIde(
      async (page) => {
        const overflow = () =>
          page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth);
        expect(await overflow()).toBeLessThanOrEqual(0);
        await enterToken(page, ADMIN_TOKEN);
        await runOperation(page, 'Studios');
        await page.locator('.graphiql-response', { hasText: 'Riverside' }).waitFor();
        expect(await overflow()).toBeLessThanOrEqual(0);
        await page.getByRole('button', { name: /documentation explorer/i }).click();
        await page.locator('.graphiql-doc-explorer').waitFor();
        expect(await overflow()).toBeLessThanOrEqual(0);
      },
      { width: 390, height: 844 },
    );
  });
});
