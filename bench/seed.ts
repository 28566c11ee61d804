/**
 * The query benchmark's data set: four weeks of one operator's webhook events, run through the
 * real ingest code in-process, so the records are exactly what ingestion produces.
 *
 *   node dist/bench/seed.js --url sqlite:data/bench.sqlite [--customers 10000] [--events 100000] [--studios 3] [--batch N] [--commit N]
 *
 * A fresh database is migrated by `openDatabase()` (src/db/database.ts), studios are registered
 * with the studio service, then the generated deliveries go through `Ingestor` (event log,
 * idempotency, projections: src/ingest/ingestor.ts) on the service's own `openSqlWriter()`, in
 * ingestor batches of `batchEvents` events, `commitEvents` events per database commit: no HTTP, no
 * key check, no JSON parsing; nothing else differs from webhooks. See bench/README.md, "Query benchmark".
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { HYDRATION_CURSOR } from '../src/upstream/hydration/hydration-scanner.js';
import { loadDatabaseConfig } from '../src/config.js';
import { openDatabase } from '../ormconfig.js';
import { openSqlWriter, type Param, type SqlTx, type SqlWriter } from '../src/db/sql-writer.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { KNOWN_EVENT_TYPES, type KnownEventType } from '../src/events/event-catalog.js';
import { Ingestor, type Submission } from '../src/ingest/ingestor.js';
import { internalDelivery } from '../src/ingest/delivery.js';
import { createLogger } from '../src/log.js';
import { EVENT_MIX, PickSet, mulberry32 } from './deliveries.js';

/** Monday 2026-10-26 00:00 in Europe/Berlin (CET, UTC+1: summer time ended on 2026-10-25). */
export const SEED_FROM = Date.UTC(2026, 9, 25, 23, 0, 0);
export const SEED_DAYS = 28;
export const SEED_TO = SEED_FROM + SEED_DAYS * 86_400_000;
export const SEED_TENANT_URL = 'https://bench.open-api.perfectgym.com/v1';

/**
 * Relative arrival intensity per local hour (0-23): a city gym, busy before and after work on
 * weekdays, late mornings at weekends, nearly empty at night. Check-ins, and the upstream's other
 * events, follow it.
 */
const WEEKDAY_HOURS = [
  0.05, 0.03, 0.02, 0.02, 0.03, 0.15, 0.6, 1.1, 1.0, 0.75, 0.6, 0.6, 0.8, 0.75, 0.6, 0.7, 1.0, 1.5, 1.7, 1.5, 1.1, 0.7, 0.35, 0.12,
];
const WEEKEND_HOURS = [
  0.04, 0.02, 0.02, 0.02, 0.02, 0.05, 0.15, 0.35, 0.7, 1.0, 1.2, 1.2, 1.1, 1.0, 0.9, 0.9, 0.9, 0.85, 0.7, 0.5, 0.35, 0.2, 0.1, 0.05,
];

/** Share of check-ins whose check-out never comes (the member walks out without tapping). */
const FORGOTTEN_CHECKOUT = 0.02;
/** Share of visits whose check-in never reached us: the check-out arrives alone. */
const LOST_CHECKIN = 0.01;
/** Share of visits whose check-out is delivered by another studio of the operator. */
const CHECKOUT_ELSEWHERE = 0.03;
/** Share of a customer's check-ins at their home studio. */
const HOME_STUDIO = 0.85;

const FIRST_CUSTOMER_ID = 1_000_001;
const CLASS_SLOTS = 2_000;
const CLASSES = 60;
const MAX_OPEN_BOOKINGS = 50_000;

/** Types whose entity is a customer picked by {@link SeedStream.customer}. */
const CUSTOMER_PICKS: ReadonlySet<KnownEventType> = new Set<KnownEventType>([
  'CUSTOMER_CHECKIN',
  'CUSTOMER_UPDATED',
  'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED',
  'CUSTOMER_DELETED',
  'CONTRACT_CREATED',
  'CONTRACT_UPDATED',
  'AGGREGATOR_MEMBER_CREATED',
]);

/** A binary min-heap of pending check-outs by due time. */
class CheckoutQueue {
  private readonly items: { at: number; customerId: number; studioId: number }[] = [];

  get size(): number {
    return this.items.length;
  }
  peek(): { at: number; customerId: number; studioId: number } | undefined {
    return this.items[0];
  }
  push(item: { at: number; customerId: number; studioId: number }): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= items[i]!.at) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }
  pop(): { at: number; customerId: number; studioId: number } | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < items.length && items[l]!.at < items[min]!.at) min = l;
        if (r < items.length && items[r]!.at < items[min]!.at) min = r;
        if (min === i) break;
        [items[min], items[i]] = [items[i]!, items[min]!];
        i = min;
      }
    }
    return top;
  }
}

export interface SeedStreamOptions {
  readonly customers: number;
  readonly events: number;
  readonly tenantId: number;
  readonly studioIds: readonly number[];
  /** @default 1 */
  readonly seed?: number;
}

/**
 * Generates `events` webhook deliveries in upstream-time order over four weeks, for one operator
 * with exactly `customers` customers: every customer gets at least one event (each first appears at
 * a random point of the four weeks; `CUSTOMER_CREATED` is always a customer's first event), a
 * check-out follows its check-in after 30-150 minutes at the same studio (mostly), bookings are
 * updated or cancelled only after being created, deleted customers get no further events. The mix
 * of the other types is {@link EVENT_MIX} (bench/deliveries.ts); check-outs come from the check-ins.
 */
export class SeedStream {
  private readonly random: () => number;
  private readonly arrivalTypes: { readonly type: KnownEventType; readonly upTo: number }[] = [];
  /** Arrivals per unit of hour weight, so that all arrivals plus their check-outs make `events`. */
  private readonly ratePerWeight: number;
  /** Expected customer picks per emitted event. */
  private readonly picksPerEvent: number;
  private readonly unseen: number[] = [];
  private readonly seen = new PickSet();
  private readonly inside = new Set<number>();
  private readonly checkouts = new CheckoutQueue();
  private readonly contracts = new Map<number, number>();
  private readonly classBookings = new PickSet();
  private readonly appointmentBookings = new PickSet();
  private nextContractId = 7_000_001;
  private nextClassBookingId = 20_000_001;
  private nextAppointmentBookingId = 40_000_001;
  private nextDeviceId = 501;
  private nextRunId = 9_001;
  private nextExportId = 3_001;
  private minute = 0;
  private carry = 0;
  private arrivals: number[] = [];
  private arrivalIndex = 0;
  private emitted = 0;
  /** Whether the last {@link customer} call picked a customer never seen before. */
  private pickedNew = false;
  /** Generated events by type. */
  readonly counts = new Map<KnownEventType, number>();

  constructor(private readonly options: SeedStreamOptions) {
    this.random = mulberry32(options.seed ?? 1);
    for (let i = 0; i < options.customers; i++) this.unseen.push(FIRST_CUSTOMER_ID + i);
    for (let i = this.unseen.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [this.unseen[i], this.unseen[j]] = [this.unseen[j]!, this.unseen[i]!];
    }
    let total = 0;
    for (const type of KNOWN_EVENT_TYPES) if (type !== 'CUSTOMER_CHECKOUT') total += EVENT_MIX[type];
    let upTo = 0;
    let picks = 0;
    for (const type of KNOWN_EVENT_TYPES) {
      if (type === 'CUSTOMER_CHECKOUT') continue;
      upTo += EVENT_MIX[type] / total;
      this.arrivalTypes.push({ type, upTo });
      if (CUSTOMER_PICKS.has(type)) picks += EVENT_MIX[type] / total;
    }
    // Each check-in arrival makes about (1 - lost) + (1 - forgotten) events, every other arrival one.
    const checkin = EVENT_MIX.CUSTOMER_CHECKIN / total;
    const eventsPerArrival = 1 + checkin * (1 - LOST_CHECKIN - FORGOTTEN_CHECKOUT);
    this.picksPerEvent = picks / eventsPerArrival;
    let weights = 0;
    for (let day = 0; day < SEED_DAYS; day++) for (let hour = 0; hour < 24; hour++) weights += hourWeight(day, hour);
    this.ratePerWeight = options.events / eventsPerArrival / weights;
  }

  /** The next delivery, or undefined after `events`. */
  next(): Submission | undefined {
    if (this.emitted >= this.options.events) return undefined;
    while (this.arrivalIndex >= this.arrivals.length) this.fillMinute();
    const at = this.arrivals[this.arrivalIndex]!;
    const due = this.checkouts.peek();
    const remaining = this.options.events - this.emitted;
    let submission: Submission;
    if (this.unseen.length >= remaining) {
      // The last few events: every customer not seen yet gets one.
      this.arrivalIndex += 1;
      const customer = this.unseen.pop()!;
      this.seen.add(customer);
      submission = this.submission('CUSTOMER_UPDATED', customer, this.homeStudio(customer), at);
    } else if (due && due.at <= at) {
      this.checkouts.pop();
      this.inside.delete(due.customerId);
      submission = this.submission('CUSTOMER_CHECKOUT', due.customerId, due.studioId, due.at);
    } else {
      this.arrivalIndex += 1;
      const submissionOrSkip = this.arrival(at);
      if (!submissionOrSkip) return this.next();
      submission = submissionOrSkip;
    }
    this.emitted += 1;
    const type = submission.delivery.elements[0]!.type as KnownEventType;
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    return submission;
  }

  /** Arrival times of the next minute, in order. */
  private fillMinute(): void {
    const start = SEED_FROM + this.minute * 60_000;
    const local = this.minute * 60_000;
    const day = Math.floor(local / 86_400_000) % SEED_DAYS;
    const hour = Math.floor((local % 86_400_000) / 3_600_000);
    this.minute += 1;
    this.carry += (this.ratePerWeight * hourWeight(day, hour)) / 60;
    const count = Math.floor(this.carry);
    this.carry -= count;
    const times: number[] = [];
    for (let i = 0; i < count; i++) times.push(start + Math.floor(this.random() * 60_000));
    this.arrivals = times.sort((a, b) => a - b);
    this.arrivalIndex = 0;
  }

  private studio(): number {
    return this.options.studioIds[Math.floor(this.random() * this.options.studioIds.length)]!;
  }

  private homeStudio(customer: number): number {
    return this.options.studioIds[customer % this.options.studioIds.length]!;
  }

  /**
   * A customer for a customer-keyed event: one not seen yet with the probability that spreads the
   * first appearances evenly over the remaining events, otherwise one seen before.
   */
  private customer(): number {
    this.pickedNew = false;
    const remainingPicks = (this.options.events - this.emitted) * this.picksPerEvent * 0.95;
    if (this.unseen.length > 0 && (this.seen.size === 0 || this.random() < this.unseen.length / Math.max(1, remainingPicks))) {
      const id = this.unseen.pop()!;
      this.seen.add(id);
      this.pickedNew = true;
      return id;
    }
    return this.seen.pick(this.random)!;
  }

  private arrival(at: number): Submission | undefined {
    const r = this.random();
    let type: KnownEventType = this.arrivalTypes[this.arrivalTypes.length - 1]!.type;
    for (const entry of this.arrivalTypes) {
      if (r < entry.upTo) {
        type = entry.type;
        break;
      }
    }
    switch (type) {
      case 'CUSTOMER_CHECKIN': {
        let customer = this.customer();
        for (let tries = 0; tries < 5 && this.inside.has(customer); tries++) customer = this.customer();
        const firstAppearance = this.pickedNew;
        if (this.inside.has(customer)) return this.submission('CUSTOMER_UPDATED', customer, this.homeStudio(customer), at);
        const studioId = this.random() < HOME_STUDIO ? this.homeStudio(customer) : this.studio();
        const minutes = 30 + 120 * ((this.random() + this.random() + this.random()) / 3);
        if (this.random() >= FORGOTTEN_CHECKOUT) {
          this.inside.add(customer);
          const checkoutStudio = this.random() < CHECKOUT_ELSEWHERE ? this.studio() : studioId;
          this.checkouts.push({ at: at + Math.round(minutes * 60_000), customerId: customer, studioId: checkoutStudio });
        }
        // A lost check-in: only its check-out (scheduled above) will arrive. Not for a customer's first
        // event: the check-out might fall after the last event, and the customer would never appear.
        if (this.random() < LOST_CHECKIN && !firstAppearance) return undefined;
        return this.submission(type, customer, studioId, at);
      }
      case 'CUSTOMER_CHECKOUT':
        return undefined; // never drawn: check-outs come from the queue
      case 'AUTOMATIC_CUSTOMER_CHECKOUT':
        return undefined; // never drawn: its share of EVENT_MIX is 0
      case 'STUDIO_OPENING_HOURS_UPDATED':
      case 'ADDITIONAL_INFORMATION_FIELDS_UPDATED':
      case 'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED':
      case 'FINANCE_DEBT_COLLECTION_CASE_UPDATED':
        return undefined; // never drawn: their shares of EVENT_MIX are 0
      case 'CUSTOMER_CREATED': {
        const customer = this.unseen.pop();
        if (customer === undefined) return this.submission('CUSTOMER_UPDATED', this.customer(), this.studio(), at);
        this.seen.add(customer);
        return this.submission(type, customer, this.homeStudio(customer), at);
      }
      case 'CUSTOMER_UPDATED':
      case 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED': {
        const customer = this.customer();
        return this.submission(type, customer, this.homeStudio(customer), at);
      }
      case 'CUSTOMER_DELETED': {
        const customer = this.customer();
        if (this.inside.has(customer) || this.seen.size < 2)
          return this.submission('CUSTOMER_UPDATED', customer, this.homeStudio(customer), at);
        this.seen.delete(customer);
        this.contracts.delete(customer);
        return this.submission(type, customer, this.homeStudio(customer), at);
      }
      case 'CONTRACT_CREATED': {
        const customer = this.customer();
        const contractId = this.nextContractId++;
        this.contracts.set(customer, contractId);
        return this.submission(type, customer, this.homeStudio(customer), at, { contractId });
      }
      case 'CONTRACT_UPDATED': {
        const customer = this.customer();
        // Customers from before the window have a contract the upstream created earlier.
        const contractId = this.contracts.get(customer) ?? 5_000_000 + customer;
        return this.submission(type, customer, this.homeStudio(customer), at, { contractId });
      }
      case 'AGGREGATOR_MEMBER_CREATED': {
        const customer = this.customer();
        const aggregatorId = `usc-${Math.floor(this.random() * 0xffffffff)
          .toString(16)
          .padStart(8, '0')}`;
        return this.submission(type, customer, this.homeStudio(customer), at, { aggregatorId });
      }
      case 'CLASS_BOOKING_CREATED':
        return this.submission(type, this.open(this.classBookings, this.nextClassBookingId++), this.studio(), at);
      case 'CLASS_BOOKING_UPDATED':
      case 'CLASS_BOOKING_CANCELLED': {
        const booking = this.classBookings.pick(this.random);
        if (booking === undefined)
          return this.submission('CLASS_BOOKING_CREATED', this.open(this.classBookings, this.nextClassBookingId++), this.studio(), at);
        if (type === 'CLASS_BOOKING_CANCELLED') this.classBookings.delete(booking);
        return this.submission(type, booking, this.studio(), at);
      }
      case 'APPOINTMENT_BOOKING_CREATED':
        return this.submission(type, this.open(this.appointmentBookings, this.nextAppointmentBookingId++), this.studio(), at);
      case 'APPOINTMENT_BOOKING_UPDATED':
      case 'APPOINTMENT_BOOKING_CANCELLED': {
        const booking = this.appointmentBookings.pick(this.random);
        if (booking === undefined) {
          return this.submission(
            'APPOINTMENT_BOOKING_CREATED',
            this.open(this.appointmentBookings, this.nextAppointmentBookingId++),
            this.studio(),
            at,
          );
        }
        if (type === 'APPOINTMENT_BOOKING_CANCELLED') this.appointmentBookings.delete(booking);
        return this.submission(type, booking, this.studio(), at);
      }
      case 'CLASS_SLOT_UPDATED':
      case 'CLASS_SLOT_CANCELLED': {
        const slot = Math.floor(this.random() * CLASS_SLOTS);
        return this.submission(type, 3_000_001 + slot, this.studio(), at, { classId: 801 + (slot % CLASSES) });
      }
      case 'DEVICE_CREATED':
        return this.submission(type, this.nextDeviceId++, this.studio(), at);
      case 'FINANCE_DEBT_COLLECTION_RUN_CREATED':
        return this.submission(type, this.nextRunId++, this.studio(), at);
      case 'TAX_ADVISOR_EXPORT_CREATED':
        return this.submission(type, this.nextExportId++, this.studio(), at);
      case 'CUSTOMER_ACCESS_DISABLED':
      case 'CUSTOMER_HOME_STUDIO_UPDATED':
      case 'CUSTOMER_CHECKIN_STUDIOS_UPDATED':
      case 'CUSTOMER_ACCESS_MEDIUM_CREATED':
      case 'CUSTOMER_ACCESS_MEDIUM_UPDATED':
      case 'CUSTOMER_ACCESS_MEDIUM_DELETED':
      case 'CUSTOMER_ACCESS_RESTRICTION_CREATED':
      case 'CUSTOMER_ACCESS_RESTRICTION_DELETED':
        return undefined; // never drawn: their share of EVENT_MIX is 0
      case 'CONTRACT_CANCELLED':
      case 'CONTRACT_IDLE_PERIOD_CREATED':
      case 'CONTRACT_IDLE_PERIOD_UPDATED':
      case 'CONTRACT_IDLE_PERIOD_CANCELLED':
      case 'CONTRACT_ADDITIONAL_MODULE_CREATED':
      case 'CONTRACT_ADDITIONAL_MODULE_UPDATED':
      case 'CONTRACT_ADDITIONAL_MODULE_DELETED':
      case 'CONTRACT_ADDITIONAL_MODULE_CANCELLED':
        return undefined; // never drawn: their shares of EVENT_MIX are 0
      case 'EMPLOYEE_CREATED':
      case 'EMPLOYEE_UPDATED':
      case 'EMPLOYEE_DELETED':
        // A small staff: ids 9001-9040.
        return this.submission(type, 9_001 + Math.floor(this.random() * 40), this.studio(), at);
    }
  }

  private open(bookings: PickSet, id: number): number {
    if (bookings.size >= MAX_OPEN_BOOKINGS) {
      const oldest = bookings.pick(this.random);
      if (oldest !== undefined) bookings.delete(oldest);
    }
    bookings.add(id);
    return id;
  }

  /** What the webhook handler hands the ingestor for a valid single-element delivery. */
  private submission(
    type: KnownEventType,
    entityId: number,
    studioId: number,
    timestamp: number,
    content?: Record<string, unknown>,
  ): Submission {
    return {
      studioId,
      tenantId: this.options.tenantId,
      delivery: internalDelivery(randomUUID(), entityId, [{ type, known: true, timestamp, content: content ?? null }]),
      // Upstream delay of 0.05-2 s.
      receivedAt: timestamp + 50 + Math.floor(this.random() * 1_950),
    };
  }
}

function hourWeight(day: number, hour: number): number {
  // SEED_FROM is a Monday: days 5 and 6 of each week are the weekend.
  return (day % 7 >= 5 ? WEEKEND_HOURS : WEEKDAY_HOURS)[hour]!;
}

export interface SeedOptions {
  readonly customers: number;
  readonly events: number;
  /** Studios of the one operator. @default 3 */
  readonly studios?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Most events per ingestor batch (`maxBatchEvents`). @default 250 on SQLite, 5000 on PostgreSQL */
  readonly batchEvents?: number;
  /** Events per database commit: that many events' ingestor batches share one transaction. @default 20000 */
  readonly commitEvents?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface SeededData {
  readonly tenantId: number;
  readonly studioIds: readonly number[];
  /** The studios' webhook keys (`X-API-KEY`), in the order of `studioIds`; empty for a database seeded earlier. */
  readonly webhookKeys: readonly string[];
  /** Wall-clock seconds of the ingestion (migrations and studio registration excluded). */
  readonly seconds: number;
  /** Generated events by type. */
  readonly mix: ReadonlyMap<KnownEventType, number>;
  /** Rows per table afterwards. */
  readonly rows: Readonly<Record<string, number>>;
  /** Upstream time of the first and the last event. */
  readonly firstEventAt: number;
  readonly lastEventAt: number;
  /** Every customer record: our id and the upstream id. */
  readonly customers: readonly { readonly id: number; readonly customerId: number }[];
}

/**
 * Events per ingestor batch. On SQLite 250, which hold at most ~150 distinct customers' check-ins
 * and check-outs: the visit projector's window query (src/domains/visits/visit.projector.ts) joins
 * a VALUES list of the batch's customers (up to 300) to the event log, and from about 190 customers
 * in one list on, SQLite's planner scans the whole events_entity index instead (to save the sort),
 * so each batch would cost time proportional to the event log (bench/README.md, "Query benchmark").
 * PostgreSQL's form of that query (LATERAL) has no such switch, and bigger batches are faster there.
 */
const DEFAULT_BATCH_EVENTS = { sqlite: 250, postgres: 5_000 } as const;
const DEFAULT_COMMIT_EVENTS = 20_000;
/** The seeding connection's SQLite page cache (the service's connections keep the default). */
const SQLITE_SEED_CACHE_KIB = 512 * 1024;

/**
 * A writer for the ingestor whose transactions run inside an outer transaction of the real writer:
 * the seed commits once per `commitEvents` events instead of once per ingestor batch (an fsync per
 * 250 events would make seeding wait on the disk). Every statement is the ingestor's own; the
 * records are the same as from separate commits.
 */
class GroupedWriter implements SqlWriter {
  private tx: SqlTx | undefined;

  constructor(private readonly writer: SqlWriter) {}

  get dialect(): 'sqlite' | 'postgres' {
    return this.writer.dialect;
  }

  /** Runs `work` (which submits to the ingestor and drains it) inside one transaction of the real writer. */
  commit<T>(work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.writer.transaction(async (tx) => {
      this.tx = tx;
      try {
        return await work(tx);
      } finally {
        this.tx = undefined;
      }
    });
  }

  /** `afterCommit` (the ingestor answers its submissions there) runs when `work` is done: the outer commit follows. */
  async transaction<T>(work: (tx: SqlTx) => Promise<T>, afterCommit?: (result: T) => Promise<void>): Promise<T> {
    if (!this.tx) throw new Error('GroupedWriter: an ingestor transaction outside commit()');
    const result = await work(this.tx);
    if (afterCommit) await afterCommit(result);
    return result;
  }

  read<T>(sql: string, params?: readonly Param[]): Promise<T[]> {
    return this.writer.read<T>(sql, params);
  }

  ping(): Promise<void> {
    return this.writer.ping();
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}

const COUNTED_TABLES = [
  'events',
  'customers',
  'customer_studios',
  'visits',
  'contracts',
  'class_bookings',
  'class_slots',
  'appointment_bookings',
  'aggregator_memberships',
];

/**
 * Migrates the (empty) database at `databaseUrl`, registers the studios, and ingests the generated
 * events through {@link Ingestor}. PostgreSQL is then vacuumed and analysed, as autovacuum would
 * have done by the time anyone queries four weeks of data; SQLite is checkpointed (it never
 * analyses by itself, and the service does not either, so neither do we).
 */
export async function seedDatabase(databaseUrl: string, options: SeedOptions): Promise<SeededData> {
  const log = options.log ?? (() => undefined);
  const config = loadDatabaseConfig({ DATABASE_URL: databaseUrl });
  const logger = createLogger('warn', { component: 'bench-seed' });
  const dataSource = await openDatabase(config, logger);
  try {
    const service = new StudioService(dataSource);
    const studioIds: number[] = [];
    const webhookKeys: string[] = [];
    let tenantId = 0;
    for (let i = 1; i <= (options.studios ?? 3); i++) {
      const webhookKey = `bench-query-key-${i}-${randomUUID()}`;
      const studio = await service.add({ name: `Bench ${i}`, webhookKey, tenantUrl: SEED_TENANT_URL });
      studioIds.push(studio.id);
      webhookKeys.push(webhookKey);
      tenantId = studio.tenantId;
    }

    const stream = new SeedStream({ customers: options.customers, events: options.events, tenantId, studioIds, seed: options.seed ?? 1 });
    const batchEvents = options.batchEvents ?? DEFAULT_BATCH_EVENTS[config.kind];
    const commitEvents = Math.max(batchEvents, options.commitEvents ?? DEFAULT_COMMIT_EVENTS);
    const writer = openSqlWriter(config);
    const grouped = new GroupedWriter(writer);
    const ingestor = new Ingestor(grouped, logger, { maxBatchEvents: batchEvents, maxQueued: commitEvents });
    let stored = 0;
    let firstEventAt = Infinity;
    let lastEventAt = -Infinity;
    const started = performance.now();
    let reported = started;
    try {
      for (;;) {
        const batch: Submission[] = [];
        for (let i = 0; i < commitEvents; i++) {
          const submission = stream.next();
          if (!submission) break;
          const at = submission.delivery.elements[0]!.timestamp;
          if (at < firstEventAt) firstEventAt = at;
          if (at > lastEventAt) lastEventAt = at;
          batch.push(submission);
        }
        if (batch.length === 0) break;
        const outcomes = await grouped.commit(async (tx) => {
          if (stored === 0 && tx.dialect === 'sqlite') {
            // A setting of this connection, not data: SQLite's default 2 MB page cache makes every insert
            // into the larger indexes a read from the OS (56 s of 132 s were system calls at 1M events).
            await tx.run(`PRAGMA cache_size = -${SQLITE_SEED_CACHE_KIB}`);
          }
          const answers = await Promise.all(batch.map((s) => ingestor.submit(s)));
          await ingestor.drain();
          return answers;
        });
        for (const outcome of outcomes) {
          if (outcome.status !== 'stored' || outcome.stored !== 1)
            throw new Error(`a seed delivery was not stored: ${JSON.stringify(outcome)}`);
        }
        stored += outcomes.length;
        const now = performance.now();
        if (now - reported >= 10_000) {
          reported = now;
          log(
            `  ... ${stored.toLocaleString('en-US')} / ${options.events.toLocaleString('en-US')} events, ${((now - started) / 1000).toFixed(0)} s`,
          );
        }
      }
    } finally {
      await writer.close();
    }
    const seconds = (performance.now() - started) / 1000;

    // A running service scans the log for hydration as events arrive; the seed runs no service, so
    // the scan would start at the seed's first event when the bench starts the server, and read the
    // whole log during the measured phases (on PostgreSQL it was 70 % through 1M events after two
    // phases). No seeded studio has an Open API key, so that scan would queue nothing: move the
    // cursor to the end of the log, where the service would be.
    await dataSource.query(
      `UPDATE "log_cursors" SET "seq" = (SELECT COALESCE(MAX("seq"), 0) FROM "events") WHERE "name" = '${HYDRATION_CURSOR}'`,
    );

    if (config.kind === 'postgres') await dataSource.query('VACUUM ANALYZE');
    else await dataSource.query('PRAGMA wal_checkpoint(TRUNCATE)');

    const rows: Record<string, number> = {};
    for (const table of COUNTED_TABLES) rows[table] = Number((await dataSource.query(`SELECT count(*) AS n FROM ${table}`))[0].n);
    const customers = (
      (await dataSource.query('SELECT "id", "customerId" FROM customers ORDER BY "id"')) as {
        id: number | string;
        customerId: number | string;
      }[]
    ).map((c) => ({ id: Number(c.id), customerId: Number(c.customerId) }));
    return { tenantId, studioIds, webhookKeys, seconds, mix: stream.counts, rows, firstEventAt, lastEventAt, customers };
  } finally {
    await dataSource.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      customers: { type: 'string', default: '10000' },
      events: { type: 'string' },
      studios: { type: 'string', default: '3' },
      batch: { type: 'string' },
      commit: { type: 'string', default: String(DEFAULT_COMMIT_EVENTS) },
    },
  });
  if (!values.url) {
    console.error(
      'usage: node dist/bench/seed.js --url sqlite:<file>|postgres://... [--customers N] [--events N (10 per customer)] [--studios N] [--batch N] [--commit N]\n' +
        'The database must be empty (it is migrated first).',
    );
    process.exitCode = 2;
    return;
  }
  const customers = Number(values.customers);
  const events = values.events === undefined ? customers * 10 : Number(values.events);
  const seeded = await seedDatabase(values.url, {
    customers,
    events,
    studios: Number(values.studios),
    ...(values.batch === undefined ? {} : { batchEvents: Number(values.batch) }),
    commitEvents: Number(values.commit),
    log: (line) => console.log(line),
  });
  console.log(
    `seeded ${events.toLocaleString('en-US')} events in ${seeded.seconds.toFixed(1)} s ` +
      `(${Math.round(events / seeded.seconds).toLocaleString('en-US')} events/s); rows: ${JSON.stringify(seeded.rows)}`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`seed failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  });
}
