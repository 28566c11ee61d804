import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * Headless Chromium for the page tests, driven by playwright-core (no browser download: Debian's
 * `chromium` package). global-setup finds the executable once and puts its path in
 * `GYMGRAPH_TEST_CHROMIUM` ('' when there is none: the browser tests are then skipped with a visible
 * message; on CI its absence fails the run, and .ci/run installs it).
 */
export const chromiumPath = (): string => process.env.GYMGRAPH_TEST_CHROMIUM ?? '';

/** `describe` when Chromium is there, `describe.skip` otherwise (global-setup said why). */
export const describeWithBrowser = (name: string, body: () => void): void => (chromiumPath() ? describe : describe.skip)(name, body);

/**
 * Flags for Chromium on these machines: no sandbox (tests run as root), and none of the background
 * traffic (component updates, sync, QUIC probes) that the closed network would refuse.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Launches headless Chromium (global-setup's, unless `path` names another) with a fresh profile. Close it in `afterAll`. */
export async function launchBrowser(path = chromiumPath()): Promise<Browser> {
  if (!path) throw new Error('Chromium is not available (see the message of global-setup)');
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: path, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A new page in its own context (cookies and storage of its own), with the given viewport. Console
 * errors and failed requests of the page are collected, so a test can assert there were none.
 */
export async function openPage(
  browser: Browser,
  viewport = { width: 1280, height: 800 },
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText ?? 'unknown'})`));
  return { context, page, problems };
}
