import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/database.js';
import { openSqlWriter, type SqlWriter } from './db/sql-writer.js';
import { TokenService } from './domains/access/token.service.js';
import { createGraphQLHandler, type GraphQLHandler } from './graphql/http.js';
import { buildGraphQLSchema } from './graphql/schema.js';
import { createHttpServer } from './http/server.js';
import { Ingestor } from './ingest/ingestor.js';
import { StudioKeys } from './ingest/studio-keys.js';
import { createWebhookHandler } from './ingest/webhook.handler.js';
import { createLogger, type Logger } from './log.js';
import { EventBus } from './realtime/event-bus.js';

/** A running service. */
export interface App {
  readonly config: Config;
  readonly server: Server;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly dataSource: DataSource;
  readonly bus: EventBus;
  /** Stops taking webhooks, finishes those in flight, closes the database. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the service: config -> schema -> database (migrations) -> ingest and GraphQL -> HTTP. */
export async function start(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<App> {
  const schema = await buildGraphQLSchema();
  const dataSource = await openDatabase(config.database, logger);
  let writer: SqlWriter;
  let graphql: GraphQLHandler;
  try {
    writer = openSqlWriter(config.database);
    const tokens = new TokenService(dataSource);
    graphql = await createGraphQLHandler(schema, {
      introspection: true,
      development: config.nodeEnv === 'development',
      logger,
      authenticate: (token) => tokens.authenticate(token, config.adminToken),
      dataSource,
    });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  const bus = new EventBus();
  const ingestor = new Ingestor(writer, logger, { onCommitted: (events) => bus.publish(events) });
  let accepting = true;
  const inFlight = new Set<Promise<void>>();

  const webhooks = createWebhookHandler({
    keys: new StudioKeys(writer),
    ingestor,
    maxBodyBytes: config.webhookMaxBodyBytes,
    accepting: () => accepting,
  });
  const { server, drain } = createHttpServer(
    {
      webhooks: (req, res, log) => {
        const work = webhooks(req, res, log);
        inFlight.add(work);
        return work.finally(() => inFlight.delete(work));
      },
      graphql: (req, res, log) => graphql.handle(req, res, log),
      ready: async () => {
        await Promise.all([writer.ping(), dataSource.query('SELECT 1')]);
        return accepting;
      },
    },
    logger,
  );
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ port, database: config.database.kind }, 'gymgraph listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: no new webhooks, finishing those in flight');
      accepting = false;
      drain();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const finished = (async () => {
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        await ingestor.drain();
      })();
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs, 'timeout').unref());
      if ((await Promise.race([finished, timeout])) === 'timeout') logger.warn('shutdown timeout: closing with work in flight');
      server.closeAllConnections();
      await closed;
      await graphql.stop();
      await writer.close();
      await dataSource.destroy();
      logger.info('stopped');
    })());

  return { config, server, url: `http://127.0.0.1:${port}`, dataSource, bus, stop };
}

/** `npm start`: run until SIGTERM / SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gymgraph: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const app = await start(config, logger).catch((error: unknown) => {
    logger.fatal({ err: error }, 'could not start');
    process.exit(1);
  });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'signal received');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) void main();
