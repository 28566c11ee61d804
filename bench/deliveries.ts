import { randomUUID } from 'node:crypto';
import { KNOWN_EVENT_TYPES, type KnownEventType } from '../src/events/event-catalog.js';

/**
 * Share of each known type in the generated traffic, in percent (sums to 100). A `Record` over
 * every known type, so adding a type to src/events/ without giving it a share here
 * fails to compile. Check-ins and check-outs dominate, as at a real gym.
 */
export const EVENT_MIX: Readonly<Record<KnownEventType, number>> = {
  CUSTOMER_CHECKIN: 30,
  CUSTOMER_CHECKOUT: 28,
  // A studio's own check-out of customers (the sister platform's type): not in the measured traffic.
  AUTOMATIC_CUSTOMER_CHECKOUT: 0,
  CLASS_BOOKING_CREATED: 10,
  CUSTOMER_UPDATED: 8,
  CONTRACT_UPDATED: 4,
  CLASS_BOOKING_CANCELLED: 3,
  CLASS_SLOT_UPDATED: 3,
  CLASS_BOOKING_UPDATED: 2.5,
  APPOINTMENT_BOOKING_CREATED: 2.5,
  CUSTOMER_CREATED: 2,
  CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: 2,
  APPOINTMENT_BOOKING_UPDATED: 1,
  APPOINTMENT_BOOKING_CANCELLED: 1,
  CONTRACT_CREATED: 1,
  AGGREGATOR_MEMBER_CREATED: 1,
  CLASS_SLOT_CANCELLED: 0.5,
  CUSTOMER_DELETED: 0.3,
  DEVICE_CREATED: 0.1,
  FINANCE_DEBT_COLLECTION_RUN_CREATED: 0.05,
  TAX_ADVISOR_EXPORT_CREATED: 0.05,
  // The customer types of the sister platform: not in the measured traffic (the figures stay comparable).
  CUSTOMER_ACCESS_DISABLED: 0,
  CUSTOMER_HOME_STUDIO_UPDATED: 0,
  CUSTOMER_CHECKIN_STUDIOS_UPDATED: 0,
  CUSTOMER_ACCESS_MEDIUM_CREATED: 0,
  CUSTOMER_ACCESS_MEDIUM_UPDATED: 0,
  CUSTOMER_ACCESS_MEDIUM_DELETED: 0,
  CUSTOMER_ACCESS_RESTRICTION_CREATED: 0,
  CUSTOMER_ACCESS_RESTRICTION_DELETED: 0,
  // The sister platform's contract types: not in the measured traffic (shares 0), so figures stay comparable.
  CONTRACT_CANCELLED: 0,
  CONTRACT_IDLE_PERIOD_CREATED: 0,
  CONTRACT_IDLE_PERIOD_UPDATED: 0,
  CONTRACT_IDLE_PERIOD_CANCELLED: 0,
  CONTRACT_ADDITIONAL_MODULE_CREATED: 0,
  CONTRACT_ADDITIONAL_MODULE_UPDATED: 0,
  CONTRACT_ADDITIONAL_MODULE_DELETED: 0,
  CONTRACT_ADDITIONAL_MODULE_CANCELLED: 0,
  // Studio settings and debt-collection cases (the sister platform's types): rare, and 0 here so the
  // measured stream stays the one the earlier figures were taken with.
  STUDIO_OPENING_HOURS_UPDATED: 0,
  ADDITIONAL_INFORMATION_FIELDS_UPDATED: 0,
  FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: 0,
  FINANCE_DEBT_COLLECTION_CASE_UPDATED: 0,
  // Staff records (the sister platform's types): not in the measured traffic.
  EMPLOYEE_CREATED: 0,
  EMPLOYEE_UPDATED: 0,
  EMPLOYEE_DELETED: 0,
};

/** Employee ids the generator uses (EMPLOYEE_*): a small staff. */
const EMPLOYEE_IDS = 9_001;
const EMPLOYEES = 40;

/** One webhook body, as the upstream sends it. */
export interface WebhookBody {
  readonly entityId: number;
  readonly uuid: string;
  readonly payload: readonly [{ readonly timestamp: number; readonly type: KnownEventType; readonly content?: Record<string, unknown> }];
}

/** A small deterministic PRNG (mulberry32), so the mix is the same from run to run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A set of numbers with O(1) add, delete and uniform random pick. */
export class PickSet {
  private readonly items: number[] = [];
  private readonly index = new Map<number, number>();

  get size(): number {
    return this.items.length;
  }
  has(value: number): boolean {
    return this.index.has(value);
  }
  add(value: number): void {
    if (this.index.has(value)) return;
    this.index.set(value, this.items.length);
    this.items.push(value);
  }
  delete(value: number): void {
    const at = this.index.get(value);
    if (at === undefined) return;
    const last = this.items.pop()!;
    this.index.delete(value);
    if (last !== value) {
      this.items[at] = last;
      this.index.set(last, at);
    }
  }
  pick(random: () => number): number | undefined {
    return this.items.length === 0 ? undefined : this.items[Math.floor(random() * this.items.length)];
  }
}

export interface GeneratorOptions {
  /** Customers of the tenant at the start. @default 20000 */
  readonly customers?: number;
  /** Seed of the choices (uuids are always fresh). @default 1 */
  readonly seed?: number;
}

const FIRST_CUSTOMER_ID = 1_000_001;
const CLASS_SLOTS = 2_000;
const CLASSES = 60;
/** Bookings kept open for later updates/cancellations (older ones are forgotten). */
const MAX_OPEN_BOOKINGS = 50_000;

/**
 * Generates a realistic stream of deliveries for one tenant: a customer checks out only after
 * checking in (later timestamp), bookings are updated or cancelled only after being created,
 * contracts and class slots carry their required content ids, deleted customers get no more
 * events. Every delivery has a fresh uuid v4 and a single payload element, timestamped just
 * before "now" (upstream delay of 0-2 s).
 */
export class DeliveryGenerator {
  private readonly random: () => number;
  private readonly cumulative: { readonly type: KnownEventType; readonly upTo: number }[] = [];
  private readonly customers = new PickSet();
  /** customerId -> check-in time, for those inside a studio now. */
  private readonly checkedIn = new Map<number, number>();
  private readonly inside = new PickSet();
  private readonly contracts = new Map<number, number>();
  private readonly classBookings = new PickSet();
  private readonly appointmentBookings = new PickSet();
  private nextCustomerId: number;
  private nextContractId = 7_000_001;
  private nextClassBookingId = 20_000_001;
  private nextAppointmentBookingId = 40_000_001;
  private nextDeviceId = 501;
  private nextRunId = 9_001;
  private nextExportId = 3_001;
  /** Generated deliveries by type. */
  readonly counts = new Map<KnownEventType, number>();

  constructor(options: GeneratorOptions = {}) {
    this.random = mulberry32(options.seed ?? 1);
    const customers = options.customers ?? 20_000;
    for (let i = 0; i < customers; i++) this.customers.add(FIRST_CUSTOMER_ID + i);
    this.nextCustomerId = FIRST_CUSTOMER_ID + customers;
    let total = 0;
    for (const type of KNOWN_EVENT_TYPES) total += EVENT_MIX[type];
    let upTo = 0;
    for (const type of KNOWN_EVENT_TYPES) {
      upTo += EVENT_MIX[type] / total;
      this.cumulative.push({ type, upTo });
    }
  }

  /** The next delivery's JSON body. */
  nextBody(now = Date.now()): string {
    return JSON.stringify(this.next(now));
  }

  next(now = Date.now()): WebhookBody {
    const r = this.random();
    let type: KnownEventType = this.cumulative[this.cumulative.length - 1]!.type;
    for (const entry of this.cumulative) {
      if (r < entry.upTo) {
        type = entry.type;
        break;
      }
    }
    const body = this.make(type, now - Math.floor(this.random() * 2_000));
    this.counts.set(body.payload[0].type, (this.counts.get(body.payload[0].type) ?? 0) + 1);
    return body;
  }

  private customer(): number {
    return this.customers.pick(this.random) ?? this.createCustomer();
  }

  private createCustomer(): number {
    const id = this.nextCustomerId++;
    this.customers.add(id);
    return id;
  }

  private body(type: KnownEventType, entityId: number, timestamp: number, content?: Record<string, unknown>): WebhookBody {
    const element = content === undefined ? { timestamp, type } : { timestamp, type, content };
    return { entityId, uuid: randomUUID(), payload: [element] };
  }

  private make(type: KnownEventType, timestamp: number): WebhookBody {
    switch (type) {
      case 'CUSTOMER_CHECKIN': {
        let customer = this.customer();
        for (let tries = 0; tries < 5 && this.inside.has(customer); tries++) customer = this.customer();
        this.checkedIn.set(customer, timestamp);
        this.inside.add(customer);
        return this.body(type, customer, timestamp);
      }
      case 'CUSTOMER_CHECKOUT': {
        const customer = this.inside.pick(this.random);
        if (customer === undefined) return this.make('CUSTOMER_CHECKIN', timestamp);
        const checkinAt = this.checkedIn.get(customer) ?? timestamp;
        this.checkedIn.delete(customer);
        this.inside.delete(customer);
        return this.body(type, customer, Math.max(timestamp, checkinAt + 1));
      }
      case 'AUTOMATIC_CUSTOMER_CHECKOUT': {
        const customer = this.inside.pick(this.random);
        if (customer === undefined) return this.make('CUSTOMER_CHECKIN', timestamp);
        this.checkedIn.delete(customer);
        this.inside.delete(customer);
        return this.body(type, 1, timestamp, { checkouts: [{ customerId: customer, checkoutTime: new Date(timestamp).toISOString() }] });
      }
      case 'CUSTOMER_CREATED':
        return this.body(type, this.createCustomer(), timestamp);
      case 'CUSTOMER_UPDATED':
      case 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED':
        return this.body(type, this.customer(), timestamp);
      case 'CUSTOMER_DELETED': {
        const customer = this.customer();
        if (this.inside.has(customer)) return this.make('CUSTOMER_UPDATED', timestamp);
        this.customers.delete(customer);
        this.contracts.delete(customer);
        return this.body(type, customer, timestamp);
      }
      case 'CONTRACT_CREATED': {
        const customer = this.customer();
        const contractId = this.nextContractId++;
        this.contracts.set(customer, contractId);
        return this.body(type, customer, timestamp, { contractId });
      }
      case 'CONTRACT_UPDATED': {
        const customer = this.customer();
        // Customers from before the bench have a contract the upstream created earlier.
        const contractId = this.contracts.get(customer) ?? 5_000_000 + customer;
        return this.body(type, customer, timestamp, { contractId });
      }
      case 'AGGREGATOR_MEMBER_CREATED': {
        const aggregatorId = `usc-${Math.floor(this.random() * 0xffffffff)
          .toString(16)
          .padStart(8, '0')}`;
        return this.body(type, this.customer(), timestamp, { aggregatorId });
      }
      case 'CLASS_BOOKING_CREATED':
        return this.body(type, this.open(this.classBookings, this.nextClassBookingId++), timestamp);
      case 'CLASS_BOOKING_UPDATED':
      case 'CLASS_BOOKING_CANCELLED': {
        const booking = this.classBookings.pick(this.random);
        if (booking === undefined) return this.make('CLASS_BOOKING_CREATED', timestamp);
        if (type === 'CLASS_BOOKING_CANCELLED') this.classBookings.delete(booking);
        return this.body(type, booking, timestamp);
      }
      case 'APPOINTMENT_BOOKING_CREATED':
        return this.body(type, this.open(this.appointmentBookings, this.nextAppointmentBookingId++), timestamp);
      case 'APPOINTMENT_BOOKING_UPDATED':
      case 'APPOINTMENT_BOOKING_CANCELLED': {
        const booking = this.appointmentBookings.pick(this.random);
        if (booking === undefined) return this.make('APPOINTMENT_BOOKING_CREATED', timestamp);
        if (type === 'APPOINTMENT_BOOKING_CANCELLED') this.appointmentBookings.delete(booking);
        return this.body(type, booking, timestamp);
      }
      case 'CLASS_SLOT_UPDATED':
      case 'CLASS_SLOT_CANCELLED': {
        const slot = Math.floor(this.random() * CLASS_SLOTS);
        return this.body(type, 3_000_001 + slot, timestamp, { classId: 801 + (slot % CLASSES) });
      }
      case 'DEVICE_CREATED':
        return this.body(type, this.nextDeviceId++, timestamp);
      case 'FINANCE_DEBT_COLLECTION_RUN_CREATED':
        return this.body(type, this.nextRunId++, timestamp);
      case 'TAX_ADVISOR_EXPORT_CREATED':
        return this.body(type, this.nextExportId++, timestamp);
      case 'CUSTOMER_ACCESS_DISABLED':
      case 'CUSTOMER_ACCESS_MEDIUM_CREATED':
      case 'CUSTOMER_ACCESS_MEDIUM_UPDATED':
      case 'CUSTOMER_ACCESS_MEDIUM_DELETED':
      case 'CUSTOMER_ACCESS_RESTRICTION_CREATED':
      case 'CUSTOMER_ACCESS_RESTRICTION_DELETED':
        return this.body(type, this.customer(), timestamp);
      case 'CUSTOMER_HOME_STUDIO_UPDATED':
        return this.body(type, this.customer(), timestamp, { sourceStudioId: 1, targetStudioId: 2 });
      case 'CUSTOMER_CHECKIN_STUDIOS_UPDATED': {
        const customer = this.customer();
        return this.body(type, customer, timestamp, { contractId: this.contracts.get(customer) ?? 5_000_000 + customer });
      }
      // Shares 0 (never drawn); a valid body all the same. Pauses and modules reuse the contract's id space.
      case 'CONTRACT_CANCELLED':
      case 'CONTRACT_IDLE_PERIOD_CREATED':
      case 'CONTRACT_IDLE_PERIOD_UPDATED':
      case 'CONTRACT_IDLE_PERIOD_CANCELLED':
      case 'CONTRACT_ADDITIONAL_MODULE_CREATED':
      case 'CONTRACT_ADDITIONAL_MODULE_UPDATED':
      case 'CONTRACT_ADDITIONAL_MODULE_DELETED':
      case 'CONTRACT_ADDITIONAL_MODULE_CANCELLED': {
        const customer = this.customer();
        const contractId = this.contracts.get(customer) ?? 5_000_000 + customer;
        if (type === 'CONTRACT_CANCELLED') return this.body(type, customer, timestamp, { contractId });
        if (type.startsWith('CONTRACT_IDLE_PERIOD_')) return this.body(type, customer, timestamp, { contractId, idlePeriodId: contractId });
        return this.body(type, customer, timestamp, { contractId, moduleContractId: 7_000_000 + contractId });
      }
      case 'STUDIO_OPENING_HOURS_UPDATED':
      case 'ADDITIONAL_INFORMATION_FIELDS_UPDATED':
      case 'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED':
        return this.body(type, 1, timestamp);
      case 'FINANCE_DEBT_COLLECTION_CASE_UPDATED':
        return this.body(type, this.nextRunId++, timestamp, { collectionCaseId: 1 + Math.floor(this.random() * 100) });
      case 'EMPLOYEE_CREATED':
      case 'EMPLOYEE_UPDATED':
      case 'EMPLOYEE_DELETED':
        return this.body(type, EMPLOYEE_IDS + Math.floor(this.random() * EMPLOYEES), timestamp);
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
}

/**
 * The malformed or hostile deliveries of the resilience benchmark (bench/resilience.ts), each of
 * which a real sender can produce:
 * - `deep`: a known type whose `content` nests 5,000 objects deep (small in bytes, deep for any
 *   recursive walk of it);
 * - `nul-type`: a NUL character in `type` (PostgreSQL text cannot hold it);
 * - `far-timestamp`: `timestamp` 9000000000000000, a safe integer beyond the last JavaScript date;
 * - `uuid-reuse`: the uuid of an earlier good delivery with a different body (a conflict, not a retry).
 */
export const POISON_KINDS = ['deep', 'nul-type', 'far-timestamp', 'uuid-reuse'] as const;
export type PoisonKind = (typeof POISON_KINDS)[number];

const POISON_DEPTH = 5_000;
const DEEP_CONTENT = `${'{"a":'.repeat(POISON_DEPTH)}1${'}'.repeat(POISON_DEPTH)}`;
/** Good deliveries remembered for `uuid-reuse`; a uuid is reused once it is this many deliveries old, so it has been answered. */
const REUSE_WINDOW = 1_000;
const REUSE_AGE = 250;

/**
 * Good deliveries from a {@link DeliveryGenerator} with a share of poison ones among them, the
 * poison kinds in turn. A poison delivery comes as a tagged body (`poison <kind>`), so the load
 * generator counts its answers apart from the good deliveries' (bench/load.ts `TaggedBody`).
 */
export class PoisonedStream {
  private readonly random: () => number;
  private readonly recent: string[] = [];
  private good = 0;
  private poisoned = 0;

  /**
   * @param share poison deliveries per delivery, e.g. 0.02
   * @param kinds the poison kinds to send, in turn (default: all of {@link POISON_KINDS})
   */
  constructor(
    private readonly generator: DeliveryGenerator,
    private readonly share: number,
    seed = 2,
    private readonly kinds: readonly PoisonKind[] = POISON_KINDS,
  ) {
    this.random = mulberry32(seed);
  }

  /** Poison deliveries sent so far. */
  get poisonSent(): number {
    return this.poisoned;
  }

  next(now = Date.now()): string | { readonly body: string; readonly tag: string } {
    if (this.share > 0 && this.random() < this.share) {
      const kind = this.kinds[this.poisoned++ % this.kinds.length]!;
      const body = this.poison(kind, now);
      if (body !== undefined) return { body, tag: `poison ${kind}` };
    }
    const delivery = this.generator.next(now);
    this.good += 1;
    this.recent[this.good % REUSE_WINDOW] = delivery.uuid;
    return JSON.stringify(delivery);
  }

  private poison(kind: PoisonKind, now: number): string | undefined {
    const entityId = 8_000_000 + Math.floor(this.random() * 1_000_000);
    switch (kind) {
      case 'deep':
        return `{"entityId":${entityId},"uuid":"${randomUUID()}","payload":[{"timestamp":${now},"type":"CUSTOMER_UPDATED","content":${DEEP_CONTENT}}]}`;
      case 'nul-type':
        return JSON.stringify({ entityId, uuid: randomUUID(), payload: [{ timestamp: now, type: 'CUSTOMER_\u0000UPDATED' }] });
      case 'far-timestamp':
        return JSON.stringify({ entityId, uuid: randomUUID(), payload: [{ timestamp: 9_000_000_000_000_000, type: 'CUSTOMER_UPDATED' }] });
      case 'uuid-reuse': {
        if (this.good < REUSE_AGE) return undefined;
        const uuid = this.recent[(this.good - REUSE_AGE + 1) % REUSE_WINDOW]!;
        return JSON.stringify({ entityId, uuid, payload: [{ timestamp: now, type: 'DEVICE_CREATED' }] });
      }
    }
  }
}
