import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { StudioService, type AddStudioInput } from '../../src/domains/studios/studio.service.js';
import type { Studio } from '../../src/domains/studios/studio.entity.js';
import { createLogger, type Logger } from '../../src/log.js';
import { start, type App } from '../../src/main.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';

export interface TestServer {
  readonly app: App;
  readonly db: TestDatabase;
  /** Registers a studio straight through the service the CLI uses. */
  addStudio(input?: Partial<AddStudioInput>): Promise<Studio & { webhookKey: string }>;
  /** POSTs a webhook body (object -> JSON) to /webhooks on loopback. */
  post(key: string | undefined, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Raw SQL against the service's database (placeholders: `$1` on PostgreSQL, `?` on SQLite). */
  sql<T = any>(query: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Use this database instead of a fresh one (another instance's); it is then not dropped by `stop()`. */
  readonly database?: TestDatabase;
  /** Where the service logs (default: nowhere), for tests that check what it logged. */
  readonly logger?: Logger;
}

/** Starts the real service in-process on port 0 against a fresh database of the given kind. */
export async function startTestServer(
  kind: DatabaseKind,
  env: Record<string, string> = {},
  options: TestServerOptions = {},
): Promise<TestServer> {
  const db = options.database ?? (await createTestDatabase(kind));
  // Fixtures post check-ins at fixed historic times: presence is not cut by a maximum stay unless a
  // test asks for one (test/presence-max-stay.test.ts does).
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: db.url, OCCUPANCY_MAX_STAY: 'off', ...env });
  const app = await start(config, options.logger ?? createLogger('silent'));
  let studios = 0;
  return {
    app,
    db,
    async addStudio(input = {}) {
      studios += 1;
      const webhookKey = input.webhookKey ?? `test-webhook-key-${randomUUID()}`;
      const studio = await new StudioService(app.dataSource).add({ name: `Studio ${studios}`, ...input, webhookKey });
      return Object.assign(studio, { webhookKey });
    },
    async post(key, body, headers = {}) {
      const response = await fetch(`${app.url}/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'x-api-key': key }), ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON: keep the text */
      }
      return { status: response.status, body: parsed };
    },
    sql: (query, params = []) => app.dataSource.query(kind === 'postgres' ? query : query.replace(/\$\d+/g, '?'), params),
    async stop() {
      await app.stop();
      if (!options.database) await db.drop();
    },
  };
}

/** A webhook body as the upstream sends it. */
export function delivery(
  entityId: number,
  ...payload: { type: string; timestamp: number; content?: Record<string, unknown> | null }[]
): { entityId: number; uuid: string; payload: typeof payload } {
  return { entityId, uuid: randomUUID(), payload };
}
