import { Redis } from 'ioredis';
import type { LoggedEvent } from '../ingest/ingestor.js';
import type { Logger } from '../log.js';
import { deliver } from './event-bus.js';
import type { EventFeed, EventListener } from './event-feed.js';
import type { EventLog } from './event-log.js';

export interface RedisEventFeedOptions {
  /** `REDIS_URL`. */
  readonly url: string;
  /** `REDIS_CHANNEL`: shared by every instance of one deployment. */
  readonly channel: string;
  readonly logger: Logger;
  /** The event log: what was announced while this instance's subscription was down is read from it. */
  readonly log: EventLog;
  /** Longest wait for one PUBLISH; the ingest lock is held meanwhile. @default 2000 (ms) */
  readonly publishTimeoutMs?: number;
  /** Longest wait for the connections at start. @default 5000 (ms) */
  readonly connectTimeoutMs?: number;
}

/** Events read from the log per statement when the feed is repaired after a reconnection. */
const REPAIR_PAGE = 1000;
/** Announcements held while repairing before they are dropped (the log has them). */
const MAX_HELD_BATCHES = 10_000;

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
 * Committed events fan out between instances through one Redis channel (`REDIS_URL`).
 *
 * Ordering: every instance delivers events to its subscribers only as they come back from its Redis
 * subscription — its own included, never by a local shortcut — so all instances see one sequence.
 * That sequence is commit order because instances publish in commit order: the PostgreSQL writer
 * holds the ingest lock from BEGIN until the batch's PUBLISH has been answered (sql-writer.ts), and
 * Redis forwards messages in the order it executed the PUBLISH commands.
 *
 * Gaps: Redis pub/sub keeps nothing for a subscriber that is away. When this instance's
 * subscription connection drops, announcements are held from the moment it does; once it is back
 * (and subscribed again) the events committed meanwhile are read from the log after the last one
 * delivered, then the held ones follow, duplicates skipped by `seq`. A PUBLISH that fails or times
 * out is logged; its events are in the log but reach subscribers only through a resume (`after`).
 */
class RedisEventFeed implements EventFeed {
  private readonly listeners = new Set<EventListener>();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly log: Logger;
  /** The highest `seq` delivered to listeners (or known to be in the log at start). */
  private delivered = 0;
  /** Set while the subscription is down or being repaired: announcements wait here. */
  private held: LoggedEvent[][] | undefined;
  /** Times `held` overflowed during one repair (each needs another read of the log). */
  private drops = 0;
  private repairing = false;
  /** Times the subscription connection dropped. */
  private outages = 0;
  private closed = false;

  constructor(private readonly options: RedisEventFeedOptions) {
    this.log = options.logger.child({ component: 'redis-event-feed' });
    const common = { lazyConnect: true, connectTimeout: options.connectTimeoutMs ?? 5000 } as const;
    // No offline queue and a command timeout: while Redis is away, PUBLISH fails at once instead of
    // keeping the ingest lock.
    this.publisher = new Redis(options.url, {
      ...common, enableOfflineQueue: false, commandTimeout: options.publishTimeoutMs ?? 2000, maxRetriesPerRequest: 1,
      connectionName: `gymgraph-publish:${options.channel}`,
    });
    // Named after the channel, so that an operator (or a test) can find the connections of one deployment.
    this.subscriber = new Redis(options.url, { ...common, autoResubscribe: true, connectionName: `gymgraph-subscribe:${options.channel}` });
    let lastError = '';
    for (const connection of [this.publisher, this.subscriber]) {
      connection.on('error', (error: Error) => {
        // Every reconnection attempt repeats it: logged once per distinct message.
        if (error.message !== lastError) this.log.warn({ err: error }, 'redis connection error');
        lastError = error.message;
      });
    }
  }

  async start(): Promise<void> {
    const timeout = this.options.connectTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no connection within ${timeout} ms`)), timeout)));
    try {
      await Promise.race([Promise.all([this.publisher.connect(), this.subscriber.connect()]), timedOut]);
      // Events committed before now were never announced to this instance's subscribers.
      this.delivered = await this.options.log.lastSeq();
      await Promise.race([this.subscriber.subscribe(this.options.channel), timedOut]);
    } finally {
      clearTimeout(timer);
    }
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.options.channel) this.receive(text);
    });
    this.subscriber.on('close', () => {
      if (this.closed) return;
      this.held ??= [];
      this.outages += 1;
    });
    this.subscriber.on('ready', () => void this.repair());
  }

  async publish(events: readonly LoggedEvent[]): Promise<void> {
    if (this.closed) throw new Error('the event feed is closed');
    await this.publisher.publish(this.options.channel, JSON.stringify(events));
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
    this.listeners.clear();
    await Promise.all(
      [this.publisher, this.subscriber].map(async (connection) => {
        if (connection.status === 'end') return;
        await connection.quit().catch(() => connection.disconnect());
      }),
    );
  }

  private receive(text: string): void {
    let events: LoggedEvent[];
    try {
      events = parseLoggedEvents(JSON.parse(text));
    } catch (error) {
      this.log.error({ err: error, bytes: text.length }, `ignored a message on ${this.options.channel} that is not a batch of events`);
      return;
    }
    if (!this.held) return this.deliver(events);
    if (this.held.length < MAX_HELD_BATCHES) this.held.push(events);
    else {
      this.held = [];
      this.drops += 1;
    }
  }

  private deliver(events: readonly LoggedEvent[]): void {
    const fresh = events.filter((event) => event.seq > this.delivered);
    if (fresh.length === 0) return;
    this.delivered = fresh[fresh.length - 1]!.seq;
    deliver(this.listeners, fresh, (error) => this.log.error({ err: error }, 'an event listener failed'));
  }

  /** After a reconnection: what was announced meanwhile comes from the log, then what was held. */
  private async repair(): Promise<void> {
    if (this.repairing || this.closed || !this.held) return;
    this.repairing = true;
    try {
      for (;;) {
        const outages = this.outages;
        // Subscribed again for sure (autoResubscribe may still be on its way; the command waits for
        // the connection): from here on, nothing announced is missed.
        await this.subscriber.subscribe(this.options.channel);
        for (;;) {
          const drops = this.drops;
          const page = await this.options.log.page({ scope: null }, this.delivered, REPAIR_PAGE);
          if (page.lastSeq !== undefined) {
            this.deliver(page.events);
            continue;
          }
          if (drops === this.drops) break;
        }
        if (outages !== this.outages) continue; // dropped again meanwhile
        const held = this.held;
        this.held = undefined;
        for (const events of held ?? []) this.deliver(events);
        break;
      }
      this.log.info({ delivered: this.delivered }, 'redis subscription back: events of the outage delivered from the log');
    } catch (error) {
      this.log.error({ err: error }, 'could not repair the event feed after a reconnection; retrying');
      setTimeout(() => void this.repair(), 1000).unref();
    } finally {
      this.repairing = false;
    }
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
      ...['seq', 'position', 'studioId', 'tenantId', 'entityId', 'occurredAt', 'receivedAt'].filter((key) => !isInt(e[key])).map((key) => `${key}: expected an integer`),
      ...['uuid', 'type'].filter((key) => typeof e[key] !== 'string').map((key) => `${key}: expected a string`),
      ...(typeof e['known'] === 'boolean' ? [] : ['known: expected a boolean']),
      ...(content === null || (typeof content === 'object' && !Array.isArray(content)) ? [] : ['content: expected an object or null']),
    ];
    if (problems.length > 0) throw new Error(`[${index}] ${problems.join('; ')}`);
    return e as unknown as LoggedEvent;
  });
}
