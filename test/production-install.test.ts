import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { MIGRATIONS } from '../src/migrations/index.js';
import { httpRequest, killChildren, postWebhook, spawnNode, startService, withTimeout, type CliResult } from './support/child.js';
import { createTestDatabase, databaseKinds, redisUrl, type TestDatabase } from './support/databases.js';
import { buildContext, hostPath, runDockerfile, type DockerStage, type DockerStep } from './support/dockerfile.js';

/**
 * The production install, without Docker (which cannot run here): the Dockerfile's build stage runs
 * in a temporary folder — `npm ci`, the production build, `npm prune --omit=dev`, exactly its RUN
 * lines in order (test/support/dockerfile.ts) — the runtime stage is assembled from its COPY lines,
 * and the service, its command-line tools and the HEALTHCHECK run from that layout, where only the
 * production dependencies exist. What is not reproduced: the base images (this machine's Node 20 and
 * npm stand in for them) and file ownership.
 *
 * `npm ci` reads the packages from npm's cache when it has them (`prefer-offline`), else from the
 * registry: most of this file's time.
 */

const ROOT = path.resolve(__dirname, '..');
const INSTALL_TIMEOUT_MS = 8 * 60_000;
const ADMIN_TOKEN = `production-install-admin-${randomUUID()}`;

/** The environment the Dockerfile's RUN lines get: npm's settings of this machine, nothing of Jest's (NODE_ENV=test). */
function buildEnvironment(): Record<string, string> {
  const passed = ['PATH', 'HOME', 'NODE_EXTRA_CA_CERTS', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
  const env: Record<string, string> = {};
  for (const name of passed) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  return { ...env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' };
}

/**
 * better-sqlite3's installer takes a prebuilt binary when it finds one (Docker's build downloads the
 * published one); this machine gets none and would compile the addon again, 1–4 minutes on the
 * shared cores. The checkout's own `npm ci` compiled the same version for this Node: that binary is
 * handed to the installer as a local prebuilt (prebuild-install's `local-prebuilds`), so `npm rebuild`
 * runs the installer as in Docker without compiling twice. When the versions differ, it compiles.
 */
function localPrebuilt(dir: string): Record<string, string> {
  const installed = path.join(ROOT, 'node_modules', 'better-sqlite3');
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages['node_modules/better-sqlite3']?.version;
  const binary = path.join('build', 'Release', 'better_sqlite3.node');
  if (
    !fs.existsSync(path.join(installed, binary)) ||
    JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version !== version
  )
    return {};
  fs.mkdirSync(dir, { recursive: true });
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['-czf', path.join(dir, name), '-C', installed, binary]);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((file) => fs.statSync(path.join(dir, file)).isFile());
}

describe('the Docker image, built and run without Docker', () => {
  let scratch: string;
  let image: DockerStage;
  /** The image's WORKDIR on this machine. */
  let app: string;
  let steps: DockerStep[];

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gymgraph-image-'));
    const context = path.join(scratch, 'context');
    buildContext(ROOT, context);
    const runEnv = { ...buildEnvironment(), ...localPrebuilt(path.join(scratch, 'prebuilds')) };
    const built = await runDockerfile({ dockerfile: path.join(ROOT, 'Dockerfile'), context, scratch, runEnv });
    image = built.stages.at(-1)!;
    steps = built.steps;
    app = hostPath(image, image.workdir);
  }, INSTALL_TIMEOUT_MS);
  afterEach(() => killChildren());
  afterAll(() => {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('when built, then the image runs node as a non-root user with NODE_ENV=production, exposes 4000, keeps data/ in a volume that user owns, and checks /readyz', () => {
    expect(steps.map((step) => step.instruction)).toEqual(expect.arrayContaining([expect.stringMatching(/^RUN npm ci\b/)]));
    expect(image.env.NODE_ENV).toBe('production');
    expect(image.user).toBeDefined();
    expect(['root', '0']).not.toContain(image.user!.split(':')[0]);
    expect(image.exposed).toContain('4000');
    expect(image.cmd).toEqual(['node', '--max-semi-space-size=64', '--min-semi-space-size=16', 'dist/src/main.js']);
    expect(image.volumes).toEqual([path.posix.join(image.workdir, 'data')]);
    expect(image.owned).toContainEqual({ path: path.posix.join(image.workdir, 'data'), user: image.user });
    expect(image.healthcheck?.cmd[0]).toBe('node');
    expect(image.healthcheck?.cmd.join(' ')).toContain('/readyz');
  });

  it('when built, then node_modules holds exactly the production dependencies of package-lock.json', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
    };
    const entries = Object.entries(lock.packages).filter(([key]) => key.startsWith('node_modules/'));
    const present = (key: string) => fs.existsSync(path.join(app, key, 'package.json'));
    expect(entries.filter(([key, entry]) => entry.dev && present(key)).map(([key]) => key)).toEqual([]);
    expect(
      entries.filter(([key, entry]) => !entry.dev && !entry.optional && !entry.devOptional && !present(key)).map(([key]) => key),
    ).toEqual([]);
    expect(present('node_modules/typescript')).toBe(false);
    expect(fs.existsSync(path.join(app, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
  });

  it('when built, then dist holds only the service and ormconfig (no tests, benchmarks or tools), and every package they require resolves from the production node_modules', () => {
    expect(fs.readdirSync(path.join(app, 'dist')).sort()).toEqual(['ormconfig.js', 'ormconfig.js.map', 'src']);
    const builtin = new Set(builtinModules);
    const unresolved: string[] = [];
    for (const file of filesUnder(path.join(app, 'dist')).filter((name) => name.endsWith('.js'))) {
      const code = fs.readFileSync(path.join(app, 'dist', file), 'utf8');
      for (const [, specifier] of code.matchAll(/\brequire(?:\.resolve)?\(\s*["']([^"'.][^"']*)["']\s*\)/g)) {
        if (specifier!.startsWith('node:') || builtin.has(specifier!)) continue;
        try {
          require.resolve(specifier!, { paths: [path.join(app, 'dist', path.dirname(file))] });
        } catch {
          unresolved.push(`${file}: ${specifier}`);
        }
      }
    }
    expect(unresolved).toEqual([]);
  });

  describe.each(databaseKinds())('on %s', (kind) => {
    let db: TestDatabase;
    /** The image's environment and the database (with Redis beside PostgreSQL, as compose.yaml runs it). */
    let env: Record<string, string>;
    const run = async (args: readonly string[]): Promise<CliResult> => {
      const child = spawnNode(args[0]!, args.slice(1), env, app);
      const { code } = await withTimeout(child.exited, 60_000, args.join(' '));
      return { code, stdout: child.stdout(), stderr: child.stderr() };
    };

    beforeAll(async () => {
      db = await createTestDatabase(kind);
      env = {
        ...image.env,
        DATABASE_URL: db.url,
        ADMIN_TOKEN,
        ...(kind === 'postgres' && redisUrl() ? { REDIS_URL: redisUrl(), REDIS_CHANNEL: `gymgraph-test:${randomUUID()}` } : {}),
      };
    });
    afterAll(() => db?.drop());

    it('when a studio and a token are made with the CLIs and CMD is started, then the HEALTHCHECK passes, a webhook goes in, GraphQL and inspect read it, the TypeORM CLI sees every migration applied, and SIGTERM stops it with 0', async () => {
      // The CLIs migrate the fresh database and load from dist with production dependencies only.
      const added = await run(['dist/src/cli/studio.js', 'add', '--name', 'Image Studio', '--webhook-key', 'production-install-key-0001']);
      expect(added).toMatchObject({ code: 0, stderr: '' });
      const studioId = Number(/^added studio (\d+)/.exec(added.stdout)?.[1]);
      const created = await run(['dist/src/cli/token.js', 'create', '--role', 'app', '--studios', 'all', '--name', 'image']);
      expect(created).toMatchObject({ code: 0, stderr: '' });
      const token = /ggt_[A-Za-z0-9_-]+/.exec(created.stdout)?.[0];
      expect(token).toBeDefined();
      const reconcile = await run(['dist/src/cli/reconcile.js', '--studio', String(studioId)]);
      expect(reconcile.code).toBe(2); // loaded, and refused: the studio has no Open API key
      expect(reconcile.stderr).toMatch(/key|tenant/i);

      const service = await startService(db.url, env, { cwd: app, args: image.cmd!.slice(1) });
      const health = spawnNode(
        image.healthcheck!.cmd[1]!,
        image.healthcheck!.cmd.slice(2),
        { ...env, PORT: new URL(service.url).port },
        app,
      );
      expect((await withTimeout(health.exited, 10_000, 'HEALTHCHECK')).code).toBe(0);

      const webhook = await postWebhook(service.url, 'production-install-key-0001', {
        uuid: randomUUID(),
        entityId: 42,
        payload: [{ type: 'CUSTOMER_CHECKIN', timestamp: Date.now() - 60_000 }],
      });
      expect(webhook).toMatchObject({ status: 200, body: { stored: 1, duplicates: 0 } });
      const query = await httpRequest(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ customers(first: 5, filter: {checkedIn: true}) { nodes { customerId } } }' }),
      });
      expect(query).toMatchObject({ status: 200, body: { data: { customers: { nodes: [{ customerId: '42' }] } } } });

      const inspected = await run(['dist/src/cli/inspect.js', 'events', '--limit', '5']);
      expect(inspected).toMatchObject({ code: 0, stderr: '' });
      expect(inspected.stdout).toContain('CUSTOMER_CHECKIN');
      const shown = await run(['node_modules/typeorm/cli.js', '-d', 'dist/src/cli/typeorm.data-source.js', 'migration:show']);
      expect(shown.code).toBe(0);
      expect(shown.stdout.match(/\[X\]/g)).toHaveLength(MIGRATIONS.length);
      expect(shown.stdout).not.toContain('[ ]');

      service.process.kill('SIGTERM');
      expect(await withTimeout(service.exited, 20_000, 'the service to stop')).toEqual({ code: 0, signal: null });
    }, 120_000);
  });
});
