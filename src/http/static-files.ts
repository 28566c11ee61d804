import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** One file the service serves as it is (a page, a script, a stylesheet, a bundle from an npm package). */
export interface StaticFile {
  /** Absolute path on disk. */
  readonly file: string;
  /** `Content-Type`, e.g. `text/javascript; charset=utf-8`. */
  readonly type: string;
  /**
   * `Cache-Control`. @default "no-cache" (the browser keeps it, but asks again each time: a
   * 304 thanks to the ETag, so a new version of the service is seen at once)
   */
  readonly cacheControl?: string;
  /** Extra headers, e.g. a `Content-Security-Policy` for a page. */
  readonly headers?: Readonly<Record<string, string>>;
}

interface Loaded {
  readonly body: Buffer;
  readonly gzipped: Buffer | undefined;
  readonly etag: string;
}

/** Types worth compressing; images and fonts are compressed already. */
const COMPRESSIBLE = /^(text\/|application\/(javascript|json|manifest\+json)|image\/svg\+xml)/;

/**
 * Static files by URL path, read from disk once on first request and kept in memory with their gzip
 * form and an ETag. Serves GET and HEAD, answers 304 to a matching `If-None-Match`, and gzip to a
 * client that accepts it. Only the paths it was built with are served: nothing is looked up on disk
 * from a URL, so no path can escape.
 */
export class StaticFiles {
  private readonly loaded = new Map<string, Loaded>();

  constructor(private readonly files: Readonly<Record<string, StaticFile>>) {}

  /** True when `urlPath` is one of ours. */
  has(urlPath: string): boolean {
    return Object.hasOwn(this.files, urlPath);
  }

  /** The URL paths served. */
  get paths(): readonly string[] {
    return Object.keys(this.files);
  }

  /** Answers a request for one of its paths (see {@link has}); other methods than GET/HEAD get 405. */
  serve(req: IncomingMessage, res: ServerResponse, urlPath: string): void {
    const spec = this.files[urlPath];
    if (!spec) throw new Error(`not a static path: ${urlPath}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'method_not_allowed', message: 'use GET' }));
      return;
    }
    const file = this.load(urlPath, spec);
    const headers: Record<string, string | number> = {
      'content-type': spec.type,
      'cache-control': spec.cacheControl ?? 'no-cache',
      etag: file.etag,
      'x-content-type-options': 'nosniff',
      ...(file.gzipped ? { vary: 'accept-encoding' } : {}),
      ...spec.headers,
    };
    // A Vary set before (CORS's `Origin`, when the page shares its path with an API) is kept: writeHead would replace it.
    const earlier = res.getHeader('vary');
    if (earlier !== undefined) headers.vary = headers.vary === undefined ? String(earlier) : `${String(earlier)}, ${headers.vary}`;
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = file.gzipped !== undefined && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? file.gzipped! : file.body;
    res.writeHead(200, { ...headers, 'content-length': body.length, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private load(urlPath: string, spec: StaticFile): Loaded {
    let file = this.loaded.get(urlPath);
    if (!file) {
      const body = fs.readFileSync(spec.file);
      const gzipped = COMPRESSIBLE.test(spec.type) && body.length > 512 ? gzipSync(body, { level: 9 }) : undefined;
      file = { body, gzipped, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
      this.loaded.set(urlPath, file);
    }
    return file;
  }
}

/**
 * The folder of an installed npm package (its package.json's), for serving a file it ships, e.g.
 * `packageDir('uplot')`. Resolved from this module, so it works from the sources and from dist.
 * A package whose `exports` hide its package.json (e.g. `ruru`) is found from its main entry: the
 * nearest folder above it whose package.json carries that name.
 */
export function packageDir(name: string): string {
  let hidden: unknown;
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch (error) {
    hidden = error; // not exported (node says ERR_PACKAGE_PATH_NOT_EXPORTED, jest's resolver "cannot find")
  }
  for (let dir = path.dirname(require.resolve(name)); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: unknown }).name === name) return dir;
    if (path.dirname(dir) === dir) throw hidden;
  }
}

/**
 * The repository's root (the folder of gymgraph's package.json), for assets kept in the sources,
 * which `tsc` does not copy to dist: from `src/http` and from `dist/src/http` alike.
 */
export function projectRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no project root above ${__dirname}`);
  }
}
