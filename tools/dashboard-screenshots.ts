import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { TokenService } from '../src/domains/access/token.service.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { createLogger } from '../src/log.js';
import { start } from '../src/main.js';
import { startStandin } from './upstream-standin/server.js';
import { World } from './upstream-standin/world.js';

/**
 * `npm run build && node dist/tools/dashboard-screenshots.js [--out docs] [--chromium /usr/bin/chromium]`:
 * starts gymgraph on a temporary SQLite database, fills it from the stand-in upstream (five weeks of
 * history ending now, hydrated), opens `/dashboard` in headless Chromium with a fresh token, sends a
 * few live check-ins, and writes `dashboard.png` (1920x1080) and `dashboard-phone.png` (390 wide,
 * whole page). It prints the page weight (JavaScript, raw and gzipped, and everything) and the
 * first paint, as the browser measured them on localhost.
 */
const ZONE = 'Europe/Berlin';
const DAY = 86_400_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: 'docs' }, chromium: { type: 'string', default: '/usr/bin/chromium' } },
  });
  const out = (line: string) => void process.stdout.write(`${line}\n`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gymgraph-shots-'));
  // History up to now: the world's timestamps past this moment are left out, so "today" is real.
  const now = Date.now();
  const world = new World({ seed: 5, studios: 2, customersPerStudio: 60, days: 36, endAt: now + DAY, zone: ZONE });
  const standin = await startStandin({ world });
  const app = await start(
    loadConfig({
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${path.join(dir, 'demo.sqlite')}`,
      HYDRATION_DELAY_MS: '0',
      HYDRATION_POLL_MS: '50',
      GRAPHQL_COST_PER_MINUTE: '0',
    }),
    createLogger('silent'),
  );
  try {
    const ids: number[] = [];
    for (const s of world.studios) {
      const studio = await new StudioService(app.dataSource).add({
        name: s.name,
        webhookKey: s.webhookKey,
        apiKey: s.apiKey,
        tenantUrl: standin.baseUrl,
      });
      ids.push(studio.id);
    }
    const { token } = await new TokenService(app.dataSource).create({ role: 'app', studios: ids, name: 'front desk' });
    const post = async (delivery: { webhookKey: string; body: unknown }) => {
      const response = await fetch(`${app.url}/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': delivery.webhookKey },
        body: JSON.stringify(delivery.body),
      });
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
    };
    const past = world.deliveries.filter((d) => d.body.payload.every((p) => p.timestamp <= now));
    for (const delivery of past) await post(delivery);
    out(`posted ${past.length} deliveries; waiting for hydration`);
    for (let i = 0; i < 600; i++) {
      const [open] = await app.dataSource.query(
        `SELECT COUNT(*) AS n FROM hydration_jobs WHERE state IN ('queued', 'running', 'retrying')`,
      );
      if (Number(open.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: values.chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, timezoneId: ZONE });
      const page = await context.newPage();
      const weights = { js: 0, jsGzip: 0, all: 0, allGzip: 0 };
      page.on('response', async (response) => {
        const url = new URL(response.url());
        if (!url.pathname.startsWith('/dashboard') || response.status() !== 200) return;
        const sizes = await response
          .request()
          .sizes()
          .catch(() => undefined);
        const body = await response.body().catch(() => Buffer.alloc(0));
        const wire = sizes?.responseBodySize ?? body.length;
        weights.all += body.length;
        weights.allGzip += wire;
        if (/javascript/.test(response.headers()['content-type'] ?? '')) {
          weights.js += body.length;
          weights.jsGzip += wire;
        }
      });
      await page.goto(`${app.url}/dashboard`);
      await page.fill('#token', token);
      await page.click('button[type=submit]');
      await page.waitForSelector('[data-testid="connection-state"][data-state="live"]');
      // First paint of a page load with the token already in the tab (what a TV shows after a reload).
      await page.reload();
      await page.waitForSelector('[data-testid="connection-state"][data-state="live"]');
      const paints = await page.evaluate(() =>
        performance.getEntriesByType('paint').map((e) => ({ name: e.name, ms: Math.round(e.startTime) })),
      );
      // A few live arrivals, so the feed and the count move.
      const customers = [...world.customers.values()].filter((c) => c.studioId === world.studios[0]!.id).slice(0, 4);
      for (const c of customers) {
        world.visit(c.id, world.studios[0]!.id, Date.now());
        await post(world.deliveries[world.deliveries.length - 1]!);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      // Two contracts signed at the desk this morning (the world's own contracts are weeks old).
      for (const [i, c] of customers.slice(0, 2).entries()) {
        await post({
          webhookKey: world.studios[0]!.webhookKey,
          body: {
            entityId: c.id,
            uuid: randomUUID(),
            payload: [{ timestamp: Date.now() - (i + 1) * 600_000, type: 'CONTRACT_CREATED', content: { contractId: 990_000 + i } }],
          },
        });
      }
      await page.waitForTimeout(3000);
      fs.mkdirSync(values.out!, { recursive: true });
      await page.screenshot({ path: path.join(values.out!, 'dashboard.png') });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(values.out!, 'dashboard-phone.png'), fullPage: true });
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
      out(
        `JavaScript: ${kb(weights.js)} (${kb(weights.jsGzip)} gzipped); everything under /dashboard: ${kb(weights.all)} (${kb(weights.allGzip)} on the wire)`,
      );
      out(`paint: ${paints.map((p) => `${p.name} ${p.ms} ms`).join(', ')}`);
    } finally {
      await browser.close();
    }
  } finally {
    await app.stop();
    await standin.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
