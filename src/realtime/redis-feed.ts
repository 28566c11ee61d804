import { Redis } from 'ioredis';
import type { LoggedEvent } from '../events/logged-event.js';
import { RepeatedLog, type Logger } from '../log.js';
import { deliver } from './in-process-feed.js';
import type { EventFeed, EventListener } from './feed.js';
import type { EventLog } from './log-reader.js';

export interface RedisEventFeedOptions {
  /** `REDIS_URL`. */
  readonly url: string;
  /** `REDIS_CHANNEL`: shared by every instance of one deployment. */
  readonly channel: string;
  readonly logger: Logger;
  /** The event log: the truth that Redis messages only announce; gaps are filled from it. */
  readonly log: EventLog;
  /** `REALTIME_BACKSTOP_MS`: how often the log is read after the last delivered event. @default 1000 (ms) */
  readonly backstopMs?: number;
  /** Longest wait for one PUBLISH; the ingest lock is held meanwhile. @default 2000 (ms) */
  readonly publishTimeoutMs?: number;
  /** Longest wait for the connections at start. @default 5000 (ms) */
  readonly connectTimeoutMs?: number;
  /** How often one repeated error (a failing PUBLISH, a connection that keeps failing) is logged at most. @default 10000 (ms) */
  readonly repeatLogMs?: number;
}

/** Events read from the log per statement when filling a gap. */
const LOG_PAGE = 1000;
/** Longest wait in `close()` for a read of the log under way. */
const CLOSE_WAIT_MS = 2000;

/**
 * Connects to Redis and returns the feed once both connections are ready and subscribed; rejects
 * (leaving nothing open) when Redis cannot be reached within `connectTimeoutMs`.
 */
export async function openRedisEventFeed(options: RedisEventFeedOptions): Promise<EventFeed> {
  const feed = new RedisEventFeed(options);
  try {
    await feed.start();
  } catch (error) {
    await feed.close();
    throw new Error('cannot use Redis at REDIS_URL for the event feed', { cause: error });
  }
  return feed;
}

/**
 * Committed events fan out between instances through one Redis channel (`REDIS_URL`). A Redis
 * message is a wake-up; the event log is the truth.
 *
 * Each instance delivers to its listeners in `seq` order, each event once, keeping `delivered`, the
 * highest `seq` handed out. A message whose first new event follows `delivered` directly is
 * delivered as it is (the common case: no query). Otherwise — the announcement of an earlier batch
 * was lost (a PUBLISH that failed, a subscription that dropped) or the sequence has a hole — the log
 * is read after `delivered` and what it holds is delivered; the message itself is not needed (its
 * events were committed before it was published, so the read finds them). Every `backstopMs` the
 * same read runs anyway, so an announcement lost with no message after it delays its events by at
 * most about that long. While the subscription is down, that read is how events arrive at all.
 *
 * Why reading the log "after `delivered`" cannot skip an event: ingest transactions of every
 * instance take one advisory lock (the ingest lock, sql-writer.ts) before their INSERT draws `seq`
 * values and keep it past COMMIT, so the log is appended in `seq` order at commit: once a read sees
 * an event, every event with a smaller `seq` has committed (and is seen too) or never will (a
 * rolled-back transaction, or a row skipped as a duplicate, leaves a hole: PostgreSQL sequences do
 * not give numbers back). That is also why a hole is only a hint to read the log, not proof of loss,
 * and why the events of one message, one transaction, are never missing anything in between.
 *
 * Ordering across instances: every instance delivers the same log in the same `seq` order, whether
 * an event came by message or from the log. A late or repeated message (a PUBLISH retried after a
 * reconnection) is harmless: what is not above `delivered` is dropped.
 *
 * A PUBLISH that fails or times out does not reject: it is logged (once per interval, with a count)
 * and this instance reads the log at once; the other instances find the events on their next read.
 */
class RedisEventFeed implements EventFeed {
  private readonly listeners = new Set<EventListener>();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly log: Logger;
  /** Errors that can repeat many times a second (every PUBLISH, every reconnection attempt). */
  private readonly repeated: RepeatedLog;
  /**
   * The highest `seq` delivered to listeners, or passed over: at start, what was committed before
   * (never announced to this instance); with no listener, what nobody was there to get.
   */
  private delivered = 0;
  /** The read of the log under way, if any (one at a time). */
  private reading: Promise<void> | undefined;
  /** A gap was seen while a read was under way: read once more when it ends. */
  private again = false;
  private backstop: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: RedisEventFeedOptions) {
    this.log = options.logger.child({ component: 'redis-event-feed' });
    this.repeated = new RepeatedLog(this.log, options.repeatLogMs);
    const common = { lazyConnect: true, connectTimeout: options.connectTimeoutMs ?? 5000 } as const;
    // No offline queue and a command timeout: while Redis is away, PUBLISH fails at once instead of
    // keeping the ingest lock.
    this.publisher = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      commandTimeout: options.publishTimeoutMs ?? 2000,
      maxRetriesPerRequest: 1,
      connectionName: `gymgraph-publish:${options.channel}`,
    });
    // Named after the channel, so that an operator (or a test) can find the connections of one deployment.
    this.subscriber = new Redis(options.url, { ...common, autoResubscribe: true, connectionName: `gymgraph-subscribe:${options.channel}` });
    for (const [role, connection] of [
      ['publish', this.publisher],
      ['subscribe', this.subscriber],
    ] as const) {
      // Every reconnection attempt repeats it while Redis is away.
      connection.on('error', (error: Error) =>
        this.repeated.warn(`${role}-connection`, { err: error, connection: role }, 'redis connection error'),
      );
    }
  }

  async start(): Promise<void> {
    const timeout = this.options.connectTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no connection within ${timeout} ms`)), timeout)),
    );
    try {
      await Promise.race([Promise.all([this.publisher.connect(), this.subscriber.connect()]), timedOut]);
      // Events committed before now were never announced to this instance's listeners (and
      // whatever commits between this read and SUBSCRIBE is found by the first backstop read).
      this.delivered = await this.options.log.lastSeq();
      // Listening before SUBSCRIBE is answered: a message in the same packet as the answer is not lost.
      this.subscriber.on('message', (channel: string, text: string) => {
        if (channel === this.options.channel) this.receive(text);
      });
      await Promise.race([this.subscriber.subscribe(this.options.channel), timedOut]);
    } finally {
      clearTimeout(timer);
    }
    this.subscriber.on('close', () => {
      if (!this.closed)
        this.repeated.warn(
          'subscription-lost',
          {},
          'redis subscription lost: events reach subscribers from the log (REALTIME_BACKSTOP_MS) until it is back',
        );
    });
    this.subscriber.on('ready', () => void this.resubscribed());
    const every = this.options.backstopMs ?? 1000;
    this.backstop = setInterval(() => {
      if (!this.reading) this.readLog();
    }, every);
    this.backstop.unref();
  }

  async publish(events: readonly LoggedEvent[]): Promise<void> {
    if (this.closed) throw new Error('the event feed is closed');
    try {
      await this.publisher.publish(this.options.channel, JSON.stringify(events));
    } catch (error) {
      this.repeated.warn(
        'publish',
        { err: error, events: events.length, lastSeq: events[events.length - 1]?.seq },
        'PUBLISH of committed events failed: they are in the log, and reach subscribers from there (REALTIME_BACKSTOP_MS)',
      );
      // This instance need not wait for the backstop.
      this.readLog();
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.backstop);
    this.listeners.clear();
    const reading = this.reading;
    if (reading) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([reading, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
    }
    await Promise.all(
      [this.publisher, this.subscriber].map(async (connection) => {
        if (connection.status === 'end') return;
        await connection.quit().catch(() => connection.disconnect());
      }),
    );
  }

  private receive(text: string): void {
    if (this.closed) return;
    let events: LoggedEvent[];
    try {
      events = parseLoggedEvents(JSON.parse(text));
    } catch (error) {
      this.repeated.error(
        'bad-message',
        { err: error, bytes: text.length },
        `ignored a message on ${this.options.channel} that is not a batch of events`,
      );
      return;
    }
    events.sort((a, b) => a.seq - b.seq);
    const first = events.find((event) => event.seq > this.delivered);
    if (!first) return; // already delivered (from the log, or a repeated message)
    if (first.seq === this.delivered + 1) this.deliver(events);
    else this.readLog();
  }

  /** Hands the events above `delivered` to the listeners, in order (`events` is in `seq` order). */
  private deliver(events: readonly LoggedEvent[]): void {
    const fresh = events[0] !== undefined && events[0].seq > this.delivered ? events : events.filter((event) => event.seq > this.delivered);
    if (fresh.length === 0) return;
    this.delivered = fresh[fresh.length - 1]!.seq;
    deliver(this.listeners, fresh, (error) => this.log.error({ err: error }, 'an event listener failed'));
  }

  /** Reads the log after `delivered` and delivers what it holds; one read at a time (see `again`). */
  private readLog(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readLogNow().finally(() => (this.reading = undefined));
  }

  private async readLogNow(): Promise<void> {
    try {
      for (;;) {
        // A gap seen from here on was announced after this read began, possibly too late for it.
        this.again = false;
        const page = await this.options.log.page({ scope: null }, this.delivered, LOG_PAGE);
        if (this.closed) return;
        this.deliver(page.events);
        // A short page is everything committed when the read began: done, unless a gap was seen since.
        if (page.events.length < LOG_PAGE && !this.again) return;
      }
    } catch (error) {
      // The next backstop read tries again.
      if (!this.closed)
        this.repeated.error('log-read', { err: error }, 'could not read the event log to fill the live event feed; retrying');
    }
  }

  /** After a reconnection: subscribed again for sure, then what was announced meanwhile comes from the log. */
  private async resubscribed(): Promise<void> {
    if (this.closed) return;
    try {
      // autoResubscribe may still be on its way; SUBSCRIBE again is harmless and answers once it holds.
      await this.subscriber.subscribe(this.options.channel);
    } catch (error) {
      // Nothing is lost: the backstop reads the log meanwhile, and the next 'ready' tries again.
      if (!this.closed) this.repeated.warn('resubscribe', { err: error }, 'could not subscribe again after a reconnection');
      return;
    }
    this.repeated.info('subscription-back', {}, 'redis subscription back: what was announced meanwhile is read from the log');
    this.readLog();
  }
}

const isInt = (value: unknown): value is number => Number.isSafeInteger(value);

/** A batch of events from Redis, checked field by field (another process wrote it). */
export function parseLoggedEvents(value: unknown): LoggedEvent[] {
  if (!Array.isArray(value)) throw new Error(`expected an array of events, got ${value === null ? 'null' : typeof value}`);
  return value.map((item: unknown, index): LoggedEvent => {
    const e = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const content = e['content'];
    const problems = [
      ...['seq', 'position', 'studioId', 'tenantId', 'entityId', 'occurredAt', 'receivedAt']
        .filter((key) => !isInt(e[key]))
        .map((key) => `${key}: expected an integer`),
      ...['uuid', 'type'].filter((key) => typeof e[key] !== 'string').map((key) => `${key}: expected a string`),
      ...(typeof e['known'] === 'boolean' ? [] : ['known: expected a boolean']),
      ...(content === null || (typeof content === 'object' && !Array.isArray(content)) ? [] : ['content: expected an object or null']),
    ];
    if (problems.length > 0) throw new Error(`[${index}] ${problems.join('; ')}`);
    return e as unknown as LoggedEvent;
  });
}
