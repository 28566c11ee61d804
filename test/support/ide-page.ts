import type { Page } from 'playwright-core';

/**
 * Driving the GraphQL IDE at `/graphql` (src/graphql/ide-page/ around Ruru's GraphiQL) from
 * playwright: for the browser tests and for tools/screenshots.ts.
 */

/** Types the token into the bar, submits it, and waits until the schema has loaded with it. */
export async function enterToken(page: Page, token: string): Promise<void> {
  await page.fill('#gg-token', token);
  await page.click('#gg-token-form button[type=submit]');
  await page.locator('#gg-status', { hasText: 'Schema loaded' }).waitFor();
  // The editors are Monaco: ready once the query editor has rendered its lines.
  await page.locator('.graphiql-query-editor .view-lines').first().waitFor();
}

/**
 * Runs one operation of a document that holds several (as the IDE's default one does): the execute
 * button then opens a menu of them, by name.
 */
export async function runOperation(page: Page, operationName: string): Promise<void> {
  await page.click('.graphiql-execute-button');
  await page.getByRole('menuitem', { name: operationName }).click();
}

/** The text of the response pane (Monaco renders spaces as no-break spaces: normalised here). */
export async function responseText(page: Page): Promise<string> {
  return (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');
}
