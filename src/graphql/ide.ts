import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { StaticFiles, packageDir, projectRoot, type StaticFile } from '../http/static-files.js';

/**
 * The GraphQL IDE served to browsers at `GET /graphql`: Ruru (PostGraphile's distribution of
 * GraphiQL 5: docs explorer, schema-aware completion, history, variables and headers editors,
 * prettify) in a frame of ours (src/graphql/ide-page/) that holds the token bar and the fetcher.
 * Everything comes from this service — Ruru's prebuilt `static/` folder, graphql-ws's browser build,
 * our three files — so it works offline and asks no CDN for anything. The token is kept in
 * `sessionStorage` (this tab only) and sent as `Authorization: Bearer` over HTTP and in
 * `connection_init` over WebSocket; it never enters GraphiQL's editors or localStorage.
 */

/** The page's own path (it is `/graphql` itself, for a GET that prefers HTML). */
export const IDE_PATH = '/graphql';

/** Every asset of the IDE lives under this prefix, out of the way of other pages (e.g. `/dashboard`). */
export const IDE_ASSET_PREFIX = '/graphql/ide/';

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/** Our frame's sources, kept beside this file (tsc does not copy them: read from the project root). */
const pageDir = (): string => path.join(projectRoot(), 'src', 'graphql', 'ide-page');

/**
 * The IDE's assets by URL path, for `routes.assets`: our script and style at `/graphql/ide/`, Ruru's
 * `static/` folder at `/graphql/ide/ruru/` (its chunks and workers are loaded relative to `ruru.js`;
 * source maps left out: ~40 MB that only a developer's devtools would ask for), and graphql-ws's
 * browser build (the subscriptions client).
 */
export function ideAssets(): Record<string, StaticFile> {
  const files: Record<string, StaticFile> = {
    [`${IDE_ASSET_PREFIX}ide.js`]: { file: path.join(pageDir(), 'ide.js'), type: TYPES['.js']! },
    [`${IDE_ASSET_PREFIX}ide.css`]: { file: path.join(pageDir(), 'ide.css'), type: TYPES['.css']! },
    [`${IDE_ASSET_PREFIX}graphql-ws.min.js`]: {
      file: path.join(packageDir('graphql-ws'), 'umd', 'graphql-ws.min.js'),
      type: TYPES['.js']!,
    },
  };
  const ruruStatic = path.join(packageDir('ruru'), 'static');
  for (const name of fs.readdirSync(ruruStatic)) {
    const type = TYPES[path.extname(name)];
    if (type === undefined || name.endsWith('.map')) continue;
    files[`${IDE_ASSET_PREFIX}ruru/${name}`] = { file: path.join(ruruStatic, name), type };
  }
  return files;
}

/** A `Host` header fit to be named in the policy (a name or an address, and a port); anything else is left out. */
const PLAIN_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The page's Content-Security-Policy: scripts, styles, fonts, images and Monaco's workers from this
 * origin only (no inline script at all); requests to this origin, and WebSockets to this host
 * (`ws:`/`wss:` of the `Host` the browser used: behind a TLS proxy the page is https and the socket
 * wss). Inline styles are allowed: Monaco and GraphiQL set them from script at run time (they
 * cannot run scripts). `data:` fonts and images are Ruru's stylesheet's own (icon fonts, patterns).
 */
export function ideContentSecurityPolicy(host: string | undefined): string {
  const sockets = host !== undefined && PLAIN_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The IDE page itself (ETag, gzip), answered on `GET /graphql` to a browser. */
export class IdePage {
  private readonly files = new StaticFiles({
    [IDE_PATH]: {
      file: path.join(pageDir(), 'index.html'),
      type: TYPES['.html']!,
      // The same URL answers JSON to API clients: caches must key on Accept too.
      headers: { vary: 'accept, accept-encoding', 'referrer-policy': 'no-referrer' },
    },
  });

  serve(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('content-security-policy', ideContentSecurityPolicy(req.headers.host));
    this.files.serve(req, res, IDE_PATH);
  }
}
