import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { projectRoot } from '../src/http/static-files.js';
import { createLogger } from '../src/log.js';
import { start } from '../src/main.js';
import { launchBrowser, openPage } from '../test/support/browser.js';
import { enterToken, runOperation } from '../test/support/ide-page.js';

/**
 * `node dist/tools/screenshots.js [--chromium /usr/bin/chromium]`: starts the service on a fresh SQLite
 * database in a temp folder, feeds it a little data through `/webhooks`, and writes a PNG of each page
 * in SHOTS (paths relative to the repository). A page that logs an error or fails a request fails the run.
 */

/** What a shot may use: the running service and a token that sees everything. */
interface Site {
  readonly url: string;
  readonly token: string;
}

interface Shot {
  /** Where the PNG goes, relative to the repository root. */
  readonly file: string;
  readonly viewport: { readonly width: number; readonly height: number };
  /** Opens the page and brings it to the state worth showing. */
  readonly prepare: (page: Page, site: Site) => Promise<void>;
}

/** One entry per page; add yours. */
const SHOTS: readonly Shot[] = [
  {
    file: 'docs/ide.png',
    viewport: { width: 1280, height: 800 },
    async prepare(page, site) {
      await page.goto(`${site.url}/graphql`);
      await enterToken(page, site.token);
      await page.getByRole('button', { name: /documentation explorer/i }).click();
      await runOperation(page, 'Studios');
      await page.locator('.graphiql-response', { hasText: 'Riverside' }).waitFor();
    },
  },
];

const STUDIOS = ['Riverside Gym', 'Harbour Fitness', 'Old Town Studio'];

async function main(): Promise<void> {
  const chromiumFlag = process.argv.indexOf('--chromium');
  const chromium = chromiumFlag === -1 ? '/usr/bin/chromium' : (process.argv[chromiumFlag + 1] ?? '');
  const root = projectRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gymgraph-screenshots-'));
  const token = `screenshots-${randomUUID()}`;
  const app = await start(
    loadConfig({
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${path.join(dir, 'gymgraph.sqlite')}`,
      ADMIN_TOKEN: token,
    }),
    createLogger('warn'),
  );
  try {
    const now = Date.now();
    for (const [index, name] of STUDIOS.entries()) {
      const webhookKey = `screenshots-key-${randomUUID()}`;
      await new StudioService(app.dataSource).add({ name, webhookKey });
      const payload = [
        { type: 'CUSTOMER_CREATED', timestamp: now - 3_600_000 },
        { type: 'CUSTOMER_CHECKIN', timestamp: now - 600_000 * (index + 1) },
      ];
      const response = await fetch(`${app.url}/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': webhookKey },
        body: JSON.stringify({ entityId: 100 + index, uuid: randomUUID(), payload }),
      });
      if (!response.ok) throw new Error(`webhook for ${name}: HTTP ${response.status} ${await response.text()}`);
    }
    const browser = await launchBrowser(chromium);
    try {
      for (const shot of SHOTS) {
        const { context, page, problems } = await openPage(browser, shot.viewport);
        // What the page weighs: bytes on the wire (gzip where served so) and as decoded, per URL.
        const weights = new Map<string, { sent: number; decoded: number }>();
        page.on('response', (response) => {
          if (response.request().method() !== 'GET') return;
          void response.body().then(
            (body) =>
              weights.set(response.url(), { sent: Number(response.headers()['content-length'] ?? body.length), decoded: body.length }),
            () => undefined,
          );
        });
        try {
          await shot.prepare(page, { url: app.url, token });
          if (problems.length > 0) throw new Error(`${shot.file}: the page had problems:\n${problems.join('\n')}`);
          const file = path.join(root, shot.file);
          fs.mkdirSync(path.dirname(file), { recursive: true });
          await page.screenshot({ path: file });
          const sum = (key: 'sent' | 'decoded') => [...weights.values()].reduce((total, weight) => total + weight[key], 0);
          process.stdout.write(
            `wrote ${shot.file} (the page loaded ${weights.size} files: ${sum('sent')} bytes sent, ${sum('decoded')} decoded)\n`,
          );
        } finally {
          await context.close();
        }
      }
    } finally {
      await browser.close();
    }
  } finally {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`screenshots: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
