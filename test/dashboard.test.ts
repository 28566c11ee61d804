import type { Browser, Page } from 'playwright-core';
import { TokenService } from '../src/domains/access/token.service.js';
import { describeWithBrowser, launchBrowser, openPage } from './support/browser.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-dashboard-0123456789';

async function gql(server: TestServer, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

describe.each(databaseKinds())('classSlots(filter: { startAt }) on %s', (kind) => {
  let server: TestServer;
  afterEach(() => server?.stop());

  it('when a range is given, then only the slots starting within it are listed, and a slot not hydrated yet matches none', async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    const studio = await server.addStudio();
    const other = await server.addStudio();
    for (const [who, slotId] of [
      [studio, 1],
      [studio, 2],
      [studio, 3],
      [studio, 4],
      [other, 5],
    ] as const) {
      const response = await server.post(
        who.webhookKey,
        delivery(slotId, { type: 'CLASS_SLOT_UPDATED', timestamp: Date.UTC(2026, 10, 1), content: { classId: 9 } }),
      );
      expect(response.status).toBe(200);
    }
    // startAt comes from hydration (Open API): set as hydration would. Slot 4 is not hydrated.
    const day = Date.UTC(2026, 10, 24);
    for (const [slotId, startAt] of [
      [1, day + 9 * 3_600_000],
      [2, day - 1],
      [3, day + 86_400_000],
      [5, day + 3_600_000],
    ] as const) {
      await server.sql('UPDATE class_slots SET "startAt" = $1 WHERE "slotId" = $2', [startAt, slotId]);
    }
    const from = new Date(day).toISOString();
    const to = new Date(day + 86_400_000).toISOString();
    const body = await gql(
      server,
      `query ($from: DateTimeISO!, $to: DateTimeISO!, $studio: ID!) {
      mine: classSlots(first: 10, filter: { studioIds: [$studio], startAt: { from: $from, to: $to } }) { nodes { slotId startAt } }
      all: classSlots(first: 10, filter: { startAt: { from: $from } }) { nodes { slotId } } }`,
      { from, to, studio: studio.id },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.mine.nodes).toEqual([{ slotId: '1', startAt: new Date(day + 9 * 3_600_000).toISOString() }]);
    expect(body.data.all.nodes.map((n: { slotId: string }) => n.slotId).sort()).toEqual(['1', '3', '5']);

    const backwards = await gql(server, `{ classSlots(filter: { startAt: { from: "${to}", to: "${from}" } }) { nodes { slotId } } }`);
    expect(backwards.errors?.[0]?.message).toContain('filter.startAt');
  });
});

describe('GET /dashboard', () => {
  let server: TestServer;
  afterEach(() => server?.stop());

  it('when asked for the page and its modules, then each is served from this origin with a strict CSP on the page, ETag and gzip', async () => {
    server = await startTestServer('sqlite');
    const page = await fetch(`${server.app.url}/dashboard`, { headers: { 'accept-encoding': 'gzip' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(
      expect.arrayContaining(['/dashboard/dashboard.js', '/dashboard/dashboard.css', '/dashboard/vendor/uplot/uPlot.min.css']),
    );
    for (const asset of [
      ...assets,
      '/dashboard/live.js',
      '/dashboard/zone.js',
      '/dashboard/vendor/graphql-ws/client.js',
      '/dashboard/vendor/uplot/uPlot.esm.js',
    ]) {
      const response = await fetch(`${server.app.url}${asset}`);
      expect([asset, response.status]).toEqual([asset, 200]);
      expect(response.headers.get('etag')).toBeTruthy();
      await response.arrayBuffer();
    }
  });
});

describeWithBrowser('the live dashboard in Chromium', () => {
  let browser: Browser;
  let db: TestDatabase | undefined;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());
  afterEach(async () => {
    for (const s of servers.splice(0).reverse()) await s.stop().catch(() => undefined);
    await db?.drop();
    db = undefined;
  });

  async function serve(env: Record<string, string> = {}): Promise<TestServer> {
    db ??= await createTestDatabase('sqlite');
    const server = await startTestServer('sqlite', { ADMIN_TOKEN, ...env }, { database: db });
    servers.push(server);
    return server;
  }

  async function signIn(page: Page, server: TestServer, token: string): Promise<void> {
    await page.goto(`${server.app.url}/dashboard`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await page
      .locator('[data-testid="connection-state"]')
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: 10_000 });
  }

  const checkin = (server: TestServer, key: string, customerId: number) =>
    server.post(key, delivery(customerId, { type: 'CUSTOMER_CHECKIN', timestamp: Date.now() })).then((r) => expect(r.status).toBe(200));

  /** The seqs of the feed's lines, top to bottom. */
  const feedSeqs = (page: Page) =>
    page.locator('[data-testid="live-feed"] > li').evaluateAll((items) => items.map((li) => Number((li as HTMLElement).dataset.seq)));

  it('when a token is entered, then occupancy shows; a check-in moves it within 2 s; a class booking shows in the feed, newest first; no page error, no failed request', async () => {
    const server = await serve();
    const studio = await server.addStudio({ name: 'Front Desk Studio' });
    await checkin(server, studio.webhookKey, 1);
    const { token } = await new TokenService(server.app.dataSource).create({ role: 'app', studios: [studio.id] });
    const { page, problems, context } = await openPage(browser);
    try {
      await signIn(page, server, token);
      const total = page.getByTestId('occupancy-total');
      await expect(total.textContent()).resolves.toBe('1');

      const sent = Date.now();
      await checkin(server, studio.webhookKey, 2);
      await page.waitForFunction(() => document.querySelector('[data-testid="occupancy-total"]')?.textContent === '2', undefined, {
        timeout: 2000,
      });
      expect(Date.now() - sent).toBeLessThan(2000);

      const booked = await server.post(studio.webhookKey, delivery(7000, { type: 'CLASS_BOOKING_CREATED', timestamp: Date.now() }));
      expect(booked.status).toBe(200);
      const first = page.locator('[data-testid="live-feed"] > li').first();
      await first.filter({ hasText: 'booked a class' }).waitFor({ timeout: 5000 });
      await expect(first.getAttribute('data-type')).resolves.toBe('CLASS_BOOKING_CREATED');
      await expect(first.textContent()).resolves.toContain('Front Desk Studio');
      const seqs = await feedSeqs(page);
      expect(seqs).toHaveLength(3);
      expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);

      // The type filter keeps only that type's lines.
      await page.getByLabel('Event type').selectOption('CUSTOMER_CHECKIN');
      await expect(
        page.locator('[data-testid="live-feed"] > li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.type)),
      ).resolves.toEqual(['CUSTOMER_CHECKIN', 'CUSTOMER_CHECKIN']);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('when the service restarts on the same database and port, then the page says reconnecting, then resumes with every event once', async () => {
    const first = await serve();
    const studio = await first.addStudio();
    const { token } = await new TokenService(first.app.dataSource).create({ role: 'app', studios: [studio.id] });
    const port = new URL(first.app.url).port;
    const { page, problems, context } = await openPage(browser);
    try {
      await signIn(page, first, token);
      await checkin(first, studio.webhookKey, 1);
      await page.locator('[data-testid="live-feed"] > li').first().waitFor();

      await first.app.stop();
      servers.splice(servers.indexOf(first), 1);
      await page
        .locator('[data-testid="connection-state"]')
        .filter({ hasText: /^reconnecting$/ })
        .waitFor({ timeout: 5000 });
      const second = await serve({ PORT: port });
      // Stored while the page is still away: the resume must replay them.
      await checkin(second, studio.webhookKey, 2);
      await checkin(second, studio.webhookKey, 3);
      await page
        .locator('[data-testid="connection-state"]')
        .filter({ hasText: /^live$/ })
        .waitFor({ timeout: 10_000 });
      // And one live after the resume.
      await checkin(second, studio.webhookKey, 4);

      const stored = (
        await second.sql(`SELECT "seq" FROM events WHERE "studioId" = $1 AND "type" <> 'GYMGRAPH_RECORD_HYDRATED' ORDER BY "seq" DESC`, [
          studio.id,
        ])
      ).map((r) => Number(r.seq));
      expect(stored).toHaveLength(4);
      await until(async () => (await feedSeqs(page)).length >= 4, 5000, 'four lines in the feed');
      await page.waitForTimeout(500); // a duplicate would arrive now
      expect(await feedSeqs(page)).toEqual(stored);
      await expect(page.getByTestId('occupancy-total').textContent()).resolves.toBe('4');
      // The reconnection attempts while the service was down are refused connections, not page errors.
      expect(problems.filter((p) => !/ERR_CONNECTION_REFUSED|WebSocket/.test(p))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('when the token is revoked, then the state becomes unauthorized and the page asks for a token again', async () => {
    const server = await serve({ WS_TOKEN_RECHECK_MS: '100' });
    const studio = await server.addStudio();
    const tokens = new TokenService(server.app.dataSource);
    const { token, record } = await tokens.create({ role: 'app', studios: [studio.id] });
    const { page, context } = await openPage(browser);
    try {
      await signIn(page, server, token);
      await tokens.revoke(record.id);
      await page
        .locator('[data-testid="connection-state"]')
        .filter({ hasText: /^unauthorized$/ })
        .waitFor({ timeout: 5000 });
      await page.getByLabel('API token').waitFor({ state: 'visible' });
      await expect(page.evaluate(() => sessionStorage.length)).resolves.toBe(0);
    } finally {
      await context.close();
    }
  });

  it('when the studio has a time zone, then the page uses it unless one is picked; contracts created and cancelled this week are counted by the server', async () => {
    const server = await serve();
    const zone = 'Pacific/Kiritimati'; // UTC+14: not the zone of any test machine's browser
    const studio = await server.addStudio({ name: 'Far East', timeZone: zone });
    const created = await server.post(
      studio.webhookKey,
      delivery(31, { type: 'CONTRACT_CREATED', timestamp: Date.now(), content: { contractId: 8001 } }),
    );
    expect(created.status).toBe(200);
    // As hydration records a cancellation: a calendar date, today's in the studio's zone.
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
      new Date(),
    );
    await server.sql('UPDATE contracts SET "cancelled" = TRUE, "cancellationDate" = ? WHERE "contractId" = 8001', [today]);
    const { token } = await new TokenService(server.app.dataSource).create({ role: 'app', studios: [studio.id] });
    const { page, problems, context } = await openPage(browser);
    try {
      await signIn(page, server, token);
      await expect(page.getByLabel('Time zone').inputValue()).resolves.toBe(zone);
      await page.locator('#contracts-cancelled').filter({ hasText: /^1$/ }).waitFor({ timeout: 5000 });
      await expect(page.locator('#contracts-created').textContent()).resolves.toBe('1');

      // A pick overrides the studio's zone and is remembered; picking the studio's zone again forgets it.
      const key = `gymgraph.dashboard.zone.${studio.id}`;
      await page.getByLabel('Time zone').selectOption('UTC');
      await expect(page.evaluate((k) => localStorage.getItem(k), key)).resolves.toBe('UTC');
      await page.getByLabel('Time zone').selectOption(zone);
      await expect(page.evaluate((k) => localStorage.getItem(k), key)).resolves.toBeNull();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('when the screen is 390 px wide, then nothing scrolls sideways', async () => {
    const server = await serve();
    const studio = await server.addStudio({ name: 'A studio with a rather long name for a small phone screen' });
    await checkin(server, studio.webhookKey, 1);
    const { token } = await new TokenService(server.app.dataSource).create({ role: 'app', studios: [studio.id] });
    const { page, problems, context } = await openPage(browser, { width: 390, height: 844 });
    try {
      await signIn(page, server, token);
      await page.getByTestId('occupancy-total').filter({ hasText: '1' }).waitFor();
      await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(390);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
