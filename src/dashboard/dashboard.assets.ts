import fs from 'node:fs';
import path from 'node:path';
import { packageDir, projectRoot, type StaticFile } from '../http/static-files.js';

/**
 * The page's policy: scripts, styles and images from this origin only (no inline script, no CDN),
 * GraphQL over HTTP and WebSocket to this origin only: under CSP Level 3 (Chromium, Firefox, Safari
 * 15.4+) 'self' also admits `ws:`/`wss:` to the page's own host and port, and nothing else.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/**
 * The live studio dashboard, by URL path: its page, scripts and stylesheet (plain ES modules kept in
 * `src/dashboard/public/`, no build step) and the browser ES modules of the npm packages it imports
 * (graphql-ws's client and uPlot), all under `/dashboard`. Served through `StaticFiles`.
 */
export function dashboardFiles(): Record<string, StaticFile> {
  const own = path.join(projectRoot(), 'src', 'dashboard', 'public');
  const page: StaticFile = {
    file: path.join(own, 'index.html'),
    type: 'text/html; charset=utf-8',
    headers: { 'content-security-policy': DASHBOARD_CSP, 'referrer-policy': 'no-referrer' },
  };
  const files: Record<string, StaticFile> = { '/dashboard': page, '/dashboard/': page };
  for (const name of fs.readdirSync(own)) {
    if (name.endsWith('.js')) files[`/dashboard/${name}`] = { file: path.join(own, name), type: JS };
    if (name.endsWith('.css')) files[`/dashboard/${name}`] = { file: path.join(own, name), type: CSS };
  }
  // graphql-ws's browser build: client.js and the shared chunk(s) it imports (their names carry a
  // hash that changes with the version, so they are read from its import lines).
  const graphqlWs = path.join(packageDir('graphql-ws'), 'dist');
  for (const name of ['client.js', ...relativeImports(path.join(graphqlWs, 'client.js'))]) {
    files[`/dashboard/vendor/graphql-ws/${name}`] = { file: path.join(graphqlWs, name), type: JS };
  }
  const uplot = path.join(packageDir('uplot'), 'dist');
  files['/dashboard/vendor/uplot/uPlot.esm.js'] = { file: path.join(uplot, 'uPlot.esm.js'), type: JS };
  files['/dashboard/vendor/uplot/uPlot.min.css'] = { file: path.join(uplot, 'uPlot.min.css'), type: CSS };
  return files;
}

/** The sibling modules an ES module imports (`from './x.js'`), by file name. */
function relativeImports(file: string): string[] {
  const source = fs.readFileSync(file, 'utf8');
  return [...new Set([...source.matchAll(/from\s+['"]\.\/([\w.-]+\.js)['"]/g)].map((match) => match[1]!))];
}
