import type { IdlePeriodContent, SisterEventContent, SisterEventType } from './answers.js';
import { Random } from './random.js';
import { generateSisterHistory, generateSisterState, initials, newEmployee } from './sister-history.js';
import type {
  WorldAccessMedium,
  WorldAccessRestriction,
  WorldAdditionalInformationField,
  WorldAdditionalModule,
  WorldClosingHours,
  WorldDebtCollectionCase,
  WorldDebtCollectionConfiguration,
  WorldEmployee,
  WorldIdlePeriod,
  WorldOpeningHours,
} from './sister-types.js';

/**
 * A deterministic upstream "world" for one tenant: what the PerfectGym Next installation of one
 * operator holds (studios, customers with personal data, contracts, check-ins, classes and slots,
 * bookings, devices, finance runs), and the webhook deliveries it would have sent as all that
 * happened. The same seed gives the same world; mutations change it and append their deliveries.
 *
 * Not product code: the stand-in upstream (server.ts) serves it over the Open API, tests and demos
 * post its webhook stream to the service.
 */

export interface WorldStudio {
  /** Upstream studio id. */
  readonly id: number;
  readonly name: string;
  readonly city: string;
  readonly countryCode: string;
  /** The key its webhooks carry (`X-API-KEY`). */
  readonly webhookKey: string;
  /** Its Open API key (`x-api-key`). */
  readonly apiKey: string;
  readonly capacity: number;
  openingHours: WorldOpeningHours[];
  closingHours: WorldClosingHours[];
  additionalInformationFields: WorldAdditionalInformationField[];
  debtCollectionConfiguration: WorldDebtCollectionConfiguration;
}

export interface WorldAddress {
  street: string;
  houseNumber: string;
  zipCode: string;
  city: string;
  country: string;
}

export interface WorldCustomer {
  readonly id: number;
  status: 'MEMBER' | 'PROSPECT' | 'FORMER_MEMBER';
  accessRefusal: boolean;
  customerNumber: string;
  /** Home studio (upstream id); changed by {@link World.moveHomeStudio}. */
  studioId: number;
  readonly createdAt: number;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  gender: 'MALE' | 'FEMALE' | 'UNISEX';
  email: string;
  phoneNumberPrivate: string | null;
  phoneNumberMobile: string | null;
  address: WorldAddress;
  preferredLanguage: string;
  iban: string;
  /** Set by {@link World.deleteCustomer}: reads answer 404 from then on. */
  deletedAt: number | null;
  /** Set by {@link World.disableCustomerAccess}: reads answer 403 from then on. */
  accessDisabledAt: number | null;
  accessMedia: WorldAccessMedium[];
  accessRestrictions: WorldAccessRestriction[];
}

export interface WorldContract {
  readonly id: number;
  readonly customerId: number;
  readonly rateName: string;
  contractStatus: 'ACTIVE' | 'INACTIVE';
  readonly createdAt: number;
  readonly startDate: string;
  readonly endDate: string;
  cancelled: boolean;
  cancellationDate: string | null;
  readonly term: { periodValue: number; periodUnit: 'MONTH' | 'YEAR' };
  readonly basePrice: { amount: number; currency: string };
  readonly currentPrice: { amount: number; currency: string };
  idlePeriods: WorldIdlePeriod[];
  additionalModules: WorldAdditionalModule[];
  /** Studios the customer may check in at under this contract (CUSTOMER_CHECKIN_STUDIOS_UPDATED; no documented read). */
  checkinStudioIds: number[];
}

export interface WorldCheckin {
  readonly checkinId: number;
  readonly customerId: number;
  /** Upstream studio id where it happened. */
  readonly studioId: number;
  readonly checkInAt: number;
  checkOutAt: number | null;
}

export interface WorldClass {
  readonly id: number;
  readonly studioId: number;
  readonly title: string;
  readonly type: 'STUDIO' | 'STREAM';
  readonly duration: number;
  readonly category: string;
  readonly bookable: boolean;
}

export interface WorldSlot {
  readonly id: number;
  readonly classId: number;
  readonly startAt: number;
  readonly endAt: number;
  readonly maxParticipants: number;
  readonly instructors: readonly { firstName: string; lastName: string }[];
  readonly location: { id: number; name: string };
  cancelled: boolean;
}

export interface WorldClassBooking {
  readonly bookingId: number;
  readonly customerId: number;
  readonly classId: number;
  readonly classSlotId: number;
  readonly bookedAt: number;
  cancelledAt: number | null;
  /** Set by {@link World.markNoShow}: the customer held a place and did not come. */
  noShow?: boolean;
}

export interface WorldAppointmentBooking {
  readonly bookingId: number;
  readonly customerId: number;
  /** Upstream studio id. */
  readonly studioId: number;
  readonly title: string;
  readonly bookedAt: number;
  readonly startAt: number;
  readonly endAt: number;
  cancelledAt: number | null;
}

export interface WorldDevice {
  readonly id: number;
  readonly studioId: number;
  readonly name: string;
  readonly active: boolean;
  readonly model: 'GENERIC_VENDING_READER' | 'GENERIC_CARD_READER' | 'GENERIC_TIME_READER';
  readonly createdAt: number;
}

export interface WorldDebtCollectionRun {
  readonly id: number;
  readonly studioId: number;
  readonly createdAt: number;
  readonly collectionDate: string;
  readonly debtCollectionType: 'TRUST' | 'PURCHASE';
  readonly status: 'INTERNAL_PROCESSING' | 'WAITING_FOR_CONFIRMATION' | 'COMPLETED' | 'FAILED';
  readonly origin: string;
}

export interface WorldTaxAdvisorExport {
  readonly id: number;
  readonly studioId: number;
  readonly createdAt: number;
  readonly fromDate: string;
  readonly toDate: string;
  readonly exportFileFormat: 'JSON' | 'CSV' | 'XLSX';
  readonly exportFormat: 'SINGLE' | 'AGGREGATED';
}

export interface WorldCommunicationPreference {
  readonly messageCategory: 'CONTRACT' | 'GENERAL' | 'APPOINTMENT' | 'NEWSLETTER' | 'LOYALTY_PROGRAM';
  readonly channels: { communicationChannel: 'LETTER' | 'EMAIL' | 'TEXT_MESSAGE' | 'PHONE'; active: boolean }[];
}

/** One webhook delivery exactly as the upstream sends it, and the studio whose key it carries. */
export interface WebhookDelivery {
  /** Upstream studio id. */
  readonly studioId: number;
  readonly webhookKey: string;
  readonly body: {
    readonly entityId: number;
    readonly uuid: string;
    readonly payload: readonly { readonly timestamp: number; readonly type: string; readonly content?: Record<string, unknown> }[];
  };
}

export interface WorldOptions {
  /** @default 1 */
  readonly seed?: number;
  /** @default 3 */
  readonly studios?: number;
  /** @default 20 */
  readonly customersPerStudio?: number;
  /** Days of history. @default 14 */
  readonly days?: number;
  /** End of the history, epoch ms (a fixed default keeps worlds reproducible). @default 2026-01-15T00:00:00Z */
  readonly endAt?: number;
  /** The tenant's IANA zone, used in every date-time the Open API answers with. @default "Europe/Berlin" */
  readonly zone?: string;
  /**
   * Also emit, in the generated history, the 23 event types the sister platform (Magicline) documents
   * besides AUTOMATIC_CUSTOMER_CHECKOUT (access, home studio, cancellations, idle periods, modules,
   * employees, studio hours and settings, debt-collection cases), changing the world to match.
   * Off, the history is exactly the seed types' as before; the records behind the sister types
   * (employees, hours, ...) exist either way, and the mutation methods send them either way.
   * @default false
   */
  readonly sisterEvents?: boolean;
}

/** A delivery of the generated history, before it is sent in time order. */
export interface PendingDelivery {
  readonly studioId: number;
  readonly entityId: number;
  readonly timestamp: number;
  readonly type: string;
  readonly content?: Record<string, unknown>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FIRST_NAMES = [
  'Anna',
  'Ben',
  'Clara',
  'David',
  'Emma',
  'Felix',
  'Greta',
  'Hannes',
  'Ida',
  'Jonas',
  'Klara',
  'Lukas',
  'Mia',
  'Noah',
  'Olga',
  'Paul',
];
const LAST_NAMES = ['Schmidt', 'Müller', 'Weber', 'Wagner', 'Becker', 'Hoffmann', 'Schulz', 'Koch', 'Richter', 'Klein', 'Wolf', 'Neumann'];
const CITIES = [
  ['Berlin', '10115'],
  ['Hamburg', '20095'],
  ['München', '80331'],
  ['Köln', '50667'],
  ['Leipzig', '04109'],
] as const;
const CLASS_TITLES = [
  ['Yoga', 'MIND_BODY'],
  ['Spinning', 'CARDIO'],
  ['Pilates', 'MIND_BODY'],
  ['HIIT', 'CARDIO'],
  ['Boxing', 'STRENGTH'],
] as const;

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class World {
  readonly seed: number;
  readonly zone: string;
  readonly startAt: number;
  readonly endAt: number;
  readonly studios: WorldStudio[] = [];
  readonly customers = new Map<number, WorldCustomer>();
  readonly contracts: WorldContract[] = [];
  readonly checkins: WorldCheckin[] = [];
  readonly classes = new Map<number, WorldClass>();
  readonly slots = new Map<number, WorldSlot>();
  readonly classBookings = new Map<number, WorldClassBooking>();
  readonly appointmentBookings = new Map<number, WorldAppointmentBooking>();
  readonly devices: WorldDevice[] = [];
  readonly debtCollectionRuns = new Map<number, WorldDebtCollectionRun>();
  readonly taxAdvisorExports = new Map<number, WorldTaxAdvisorExport>();
  readonly communicationPreferences = new Map<number, WorldCommunicationPreference[]>();
  readonly employees = new Map<number, WorldEmployee>();
  /** By collectionCaseId. */
  readonly debtCollectionCases = new Map<number, WorldDebtCollectionCase>();
  readonly sisterEvents: boolean;
  /** Every delivery so far: the generated history in time order, then those of later mutations. */
  readonly deliveries: WebhookDelivery[] = [];
  /** The latest moment the world knows of (end of history, or the latest mutation). */
  now: number;

  private readonly random: Random;
  private readonly uuids: Random;
  /**
   * Draws for the sister records and events: a generator of its own, so that a world without
   * `sisterEvents` is exactly the one generated before they existed.
   */
  readonly sisterRandom: Random;
  /** While generating: where {@link send} collects deliveries, to be sent in time order. */
  private sink: PendingDelivery[] | null = null;

  constructor(options: WorldOptions = {}) {
    this.seed = options.seed ?? 1;
    this.zone = options.zone ?? 'Europe/Berlin';
    this.endAt = options.endAt ?? Date.UTC(2026, 0, 15);
    this.startAt = this.endAt - (options.days ?? 14) * DAY;
    this.now = this.endAt;
    this.random = new Random(this.seed);
    this.uuids = this.random.fork();
    this.sisterEvents = options.sisterEvents ?? false;
    this.sisterRandom = new Random((this.seed * 2_654_435_761 + 0x51573) >>> 0);
    this.generate(options.studios ?? 3, options.customersPerStudio ?? 20);
  }

  studio(id: number): WorldStudio {
    const studio = this.studios.find((s) => s.id === id);
    if (!studio) throw new Error(`no studio ${id} in this world`);
    return studio;
  }

  /** The customer, unless deleted. */
  readableCustomer(id: number): WorldCustomer | undefined {
    const customer = this.customers.get(id);
    return customer && customer.deletedAt === null ? customer : undefined;
  }

  // ---- mutations: each changes the world and appends the deliveries the upstream would send ----

  /** Changes a customer's data; sends CUSTOMER_UPDATED. */
  updateCustomer(
    id: number,
    changes: Partial<Pick<WorldCustomer, 'firstName' | 'lastName' | 'email' | 'status' | 'phoneNumberMobile'>>,
    at = this.tick(),
  ): void {
    const customer = this.mustCustomer(id);
    Object.assign(customer, changes);
    this.send(customer.studioId, id, at, 'CUSTOMER_UPDATED');
  }

  /** Deletes a customer; sends CUSTOMER_DELETED. Reads of the customer answer 404 from then on. */
  deleteCustomer(id: number, at = this.tick()): void {
    const customer = this.mustCustomer(id, { evenDisabled: true });
    customer.deletedAt = at;
    this.send(customer.studioId, id, at, 'CUSTOMER_DELETED');
  }

  /** Cancels a class booking; sends CLASS_BOOKING_CANCELLED. */
  cancelClassBooking(bookingId: number, at = this.tick()): void {
    const booking = this.classBookings.get(bookingId);
    if (!booking || booking.cancelledAt !== null) throw new Error(`class booking ${bookingId} is not an open booking`);
    booking.cancelledAt = at;
    this.send(this.classes.get(booking.classId)!.studioId, bookingId, at, 'CLASS_BOOKING_CANCELLED');
  }

  /**
   * A customer books a class slot; sends CLASS_BOOKING_CREATED. Bookings beyond the slot's places
   * (in booking order) are on its waiting list (see server.ts).
   */
  bookClass(customerId: number, slotId: number, at = this.tick()): WorldClassBooking {
    this.mustCustomer(customerId);
    const slot = this.slots.get(slotId);
    if (!slot) throw new Error(`no class slot ${slotId}`);
    const booking: WorldClassBooking = {
      bookingId: this.nextId('classBooking'),
      customerId,
      classId: slot.classId,
      classSlotId: slot.id,
      bookedAt: at,
      cancelledAt: null,
    };
    this.classBookings.set(booking.bookingId, booking);
    this.send(this.classes.get(slot.classId)!.studioId, booking.bookingId, at, 'CLASS_BOOKING_CREATED');
    return booking;
  }

  /** Marks a class booking as a no-show (the customer did not come); sends CLASS_BOOKING_UPDATED. */
  markNoShow(bookingId: number, at = this.tick()): void {
    const booking = this.classBookings.get(bookingId);
    if (!booking || booking.cancelledAt !== null) throw new Error(`class booking ${bookingId} is not an open booking`);
    booking.noShow = true;
    this.send(this.classes.get(booking.classId)!.studioId, bookingId, at, 'CLASS_BOOKING_UPDATED');
  }

  /** Cancels an appointment booking; sends APPOINTMENT_BOOKING_CANCELLED. */
  cancelAppointmentBooking(bookingId: number, at = this.tick()): void {
    const booking = this.appointmentBookings.get(bookingId);
    if (!booking || booking.cancelledAt !== null) throw new Error(`appointment booking ${bookingId} is not an open booking`);
    booking.cancelledAt = at;
    this.send(booking.studioId, bookingId, at, 'APPOINTMENT_BOOKING_CANCELLED');
  }

  /** A customer checks in (and out, `durationMs` later, if given) at a studio; sends both events. */
  visit(customerId: number, studioId: number, at = this.tick(), durationMs?: number): WorldCheckin {
    this.mustCustomer(customerId);
    const checkin: WorldCheckin = { checkinId: this.nextId('checkin'), customerId, studioId, checkInAt: at, checkOutAt: null };
    this.checkins.push(checkin);
    this.send(studioId, customerId, at, 'CUSTOMER_CHECKIN');
    if (durationMs !== undefined) {
      checkin.checkOutAt = at + durationMs;
      this.send(studioId, customerId, at + durationMs, 'CUSTOMER_CHECKOUT');
      this.now = Math.max(this.now, at + durationMs);
    }
    return checkin;
  }

  /**
   * The studio checks out everyone still checked in there (as at closing time); sends one
   * AUTOMATIC_CUSTOMER_CHECKOUT whose entityId is the studio, listing each customer with `at`.
   * Returns the check-ins it closed (none: nothing is sent).
   */
  automaticCheckout(studioId: number, at = this.tick()): WorldCheckin[] {
    this.studio(studioId);
    const open = this.checkins.filter((c) => c.studioId === studioId && c.checkOutAt === null && c.checkInAt < at);
    if (open.length === 0) return [];
    for (const checkin of open) checkin.checkOutAt = at;
    const checkoutTime = new Date(at).toISOString();
    this.send(studioId, studioId, at, 'AUTOMATIC_CUSTOMER_CHECKOUT', {
      checkouts: open.map((c) => ({ customerId: c.customerId, checkoutTime })),
    });
    return open;
  }

  /** The studio schedules a new slot of one of its classes starting at `startAt`; sends CLASS_SLOT_UPDATED at `at`. */
  scheduleSlot(classId: number, startAt: number, at = this.tick()): WorldSlot {
    const cls = this.classes.get(classId);
    if (!cls) throw new Error(`no class ${classId} in this world`);
    const id = Math.max(...this.slots.keys()) + 1;
    const slot: WorldSlot = {
      id,
      classId,
      startAt,
      endAt: startAt + cls.duration * 60_000,
      maxParticipants: 16,
      instructors: [{ firstName: 'Anna', lastName: 'Weber' }],
      location: { id: 99, name: `${cls.title} room` },
      cancelled: false,
    };
    this.slots.set(id, slot);
    this.send(cls.studioId, id, at, 'CLASS_SLOT_UPDATED', { classId });
    return slot;
  }

  // ---- the sister platform's types: each changes the world and sends its webhook ----

  /** Revokes a customer's access; sends CUSTOMER_ACCESS_DISABLED. Reads of the customer answer 403 from then on. */
  disableCustomerAccess(customerId: number, at = this.tick()): void {
    const customer = this.mustCustomer(customerId);
    customer.accessDisabledAt = at;
    this.sendSister(customer.studioId, customerId, at, 'CUSTOMER_ACCESS_DISABLED', undefined);
  }

  /** Hands the customer a card (or tag); sends CUSTOMER_ACCESS_MEDIUM_CREATED. */
  addAccessMedium(customerId: number, type: WorldAccessMedium['type'] = 'CARD', at = this.tick()): WorldAccessMedium {
    const customer = this.mustCustomer(customerId);
    const id = this.nextId('accessMedium');
    const medium: WorldAccessMedium = { id, type, identifier: `AM-${id}-${this.sisterRandom.int(1000, 9999)}`, createdAt: at };
    customer.accessMedia.push(medium);
    this.sendSister(customer.studioId, customerId, at, 'CUSTOMER_ACCESS_MEDIUM_CREATED', undefined);
    return medium;
  }

  /** Replaces a medium's number (a lost card); sends CUSTOMER_ACCESS_MEDIUM_UPDATED. */
  replaceAccessMedium(customerId: number, mediumId: number, at = this.tick()): void {
    const customer = this.mustCustomer(customerId);
    const medium = customer.accessMedia.find((m) => m.id === mediumId);
    if (!medium) throw new Error(`customer ${customerId} has no access medium ${mediumId}`);
    medium.identifier = `AM-${mediumId}-${this.sisterRandom.int(1000, 9999)}`;
    this.sendSister(customer.studioId, customerId, at, 'CUSTOMER_ACCESS_MEDIUM_UPDATED', undefined);
  }

  /** Takes a medium away; sends CUSTOMER_ACCESS_MEDIUM_DELETED. */
  removeAccessMedium(customerId: number, mediumId: number, at = this.tick()): void {
    const customer = this.mustCustomer(customerId);
    const index = customer.accessMedia.findIndex((m) => m.id === mediumId);
    if (index < 0) throw new Error(`customer ${customerId} has no access medium ${mediumId}`);
    customer.accessMedia.splice(index, 1);
    this.sendSister(customer.studioId, customerId, at, 'CUSTOMER_ACCESS_MEDIUM_DELETED', undefined);
  }

  /** Restricts the customer's access; sends CUSTOMER_ACCESS_RESTRICTION_CREATED. The customer reads `accessRefusal: true` while any is set. */
  addAccessRestriction(customerId: number, reason = 'Unpaid fees', at = this.tick()): WorldAccessRestriction {
    const customer = this.mustCustomer(customerId);
    const restriction: WorldAccessRestriction = { id: this.nextId('accessRestriction'), reason, createdAt: at };
    customer.accessRestrictions.push(restriction);
    this.sendSister(customer.studioId, customerId, at, 'CUSTOMER_ACCESS_RESTRICTION_CREATED', undefined);
    return restriction;
  }

  /** Lifts a restriction; sends CUSTOMER_ACCESS_RESTRICTION_DELETED. */
  liftAccessRestriction(customerId: number, restrictionId: number, at = this.tick()): void {
    const customer = this.mustCustomer(customerId);
    const index = customer.accessRestrictions.findIndex((r) => r.id === restrictionId);
    if (index < 0) throw new Error(`customer ${customerId} has no access restriction ${restrictionId}`);
    customer.accessRestrictions.splice(index, 1);
    this.sendSister(customer.studioId, customerId, at, 'CUSTOMER_ACCESS_RESTRICTION_DELETED', undefined);
  }

  /** Changes where a contract lets its customer check in; sends CUSTOMER_CHECKIN_STUDIOS_UPDATED {contractId}. */
  updateCheckinStudios(contractId: number, studioIds: readonly number[], at = this.tick()): void {
    const { contract, customer } = this.mustContract(contractId);
    for (const id of studioIds) this.studio(id);
    contract.checkinStudioIds = [...studioIds];
    this.sendSister(customer.studioId, customer.id, at, 'CUSTOMER_CHECKIN_STUDIOS_UPDATED', { contractId });
  }

  /**
   * Moves the customer to another home studio; sends CUSTOMER_HOME_STUDIO_UPDATED
   * {sourceStudioId, targetStudioId} with the source studio's key (its later events carry the target's).
   */
  moveHomeStudio(customerId: number, targetStudioId: number, at = this.tick()): void {
    const customer = this.mustCustomer(customerId);
    this.studio(targetStudioId);
    const sourceStudioId = customer.studioId;
    if (sourceStudioId === targetStudioId) throw new Error(`customer ${customerId} is already at studio ${targetStudioId}`);
    customer.studioId = targetStudioId;
    this.sendSister(sourceStudioId, customerId, at, 'CUSTOMER_HOME_STUDIO_UPDATED', { sourceStudioId, targetStudioId });
  }

  /** Cancels a contract on `at`'s day (it runs on to its end date); sends CONTRACT_CANCELLED {contractId}. */
  cancelContract(contractId: number, at = this.tick()): void {
    const { contract, customer } = this.mustContract(contractId);
    if (contract.cancelled) throw new Error(`contract ${contractId} is already cancelled`);
    contract.cancelled = true;
    contract.cancellationDate = isoDate(at);
    this.sendSister(customer.studioId, customer.id, at, 'CONTRACT_CANCELLED', { contractId });
  }

  /** Pauses a contract; sends CONTRACT_IDLE_PERIOD_CREATED. `endDate` null: unlimited. */
  addIdlePeriod(
    contractId: number,
    period: { readonly startDate: string; readonly endDate: string | null; readonly reason?: string; readonly free?: boolean },
    at = this.tick(),
  ): WorldIdlePeriod {
    const { contract, customer } = this.mustContract(contractId);
    const idle: WorldIdlePeriod = {
      id: this.nextId('idlePeriod'),
      createdAt: at,
      startDate: period.startDate,
      endDate: null,
      unlimited: false,
      reason: period.reason ?? 'Vacation',
      temporalUnit: 'DAY',
      amount: null,
      usedFreeTermsInDays: null,
      fee: null,
    };
    setIdleLength(idle, period.endDate, period.free ?? true);
    contract.idlePeriods.push(idle);
    this.sendSister(customer.studioId, customer.id, at, 'CONTRACT_IDLE_PERIOD_CREATED', idleContent(contractId, idle));
    return idle;
  }

  /** Moves a pause's end (null: unlimited); sends CONTRACT_IDLE_PERIOD_UPDATED. */
  updateIdlePeriod(contractId: number, idlePeriodId: number, endDate: string | null, at = this.tick()): void {
    const { contract, customer } = this.mustContract(contractId);
    const idle = contract.idlePeriods.find((p) => p.id === idlePeriodId);
    if (!idle) throw new Error(`contract ${contractId} has no idle period ${idlePeriodId}`);
    setIdleLength(idle, endDate, idle.fee === null);
    this.sendSister(customer.studioId, customer.id, at, 'CONTRACT_IDLE_PERIOD_UPDATED', idleContent(contractId, idle));
  }

  /** Withdraws a pause (it is no longer listed); sends CONTRACT_IDLE_PERIOD_CANCELLED with its last content. */
  cancelIdlePeriod(contractId: number, idlePeriodId: number, at = this.tick()): void {
    const { contract, customer } = this.mustContract(contractId);
    const index = contract.idlePeriods.findIndex((p) => p.id === idlePeriodId);
    if (index < 0) throw new Error(`contract ${contractId} has no idle period ${idlePeriodId}`);
    const [idle] = contract.idlePeriods.splice(index, 1);
    this.sendSister(customer.studioId, customer.id, at, 'CONTRACT_IDLE_PERIOD_CANCELLED', idleContent(contractId, idle!));
  }

  /** Adds a module contract to a main contract from `at`'s day to the main contract's end; sends CONTRACT_ADDITIONAL_MODULE_CREATED. */
  addAdditionalModule(contractId: number, rateName = 'Towel flat', price = 4.9, at = this.tick()): WorldAdditionalModule {
    const { contract, customer } = this.mustContract(contractId);
    const module: WorldAdditionalModule = {
      moduleContractId: this.nextId('contract'),
      createdAt: at,
      rateName,
      status: 'ACTIVE',
      startDate: isoDate(at),
      endDate: contract.endDate,
      cancelled: false,
      cancellationDate: null,
      price: { amount: price, currency: 'EUR' },
    };
    contract.additionalModules.push(module);
    this.sendSister(customer.studioId, customer.id, at, 'CONTRACT_ADDITIONAL_MODULE_CREATED', {
      contractId,
      moduleContractId: module.moduleContractId,
    });
    return module;
  }

  /** Changes a module's rate or price; sends CONTRACT_ADDITIONAL_MODULE_UPDATED. */
  updateAdditionalModule(
    contractId: number,
    moduleContractId: number,
    changes: { readonly rateName?: string; readonly price?: number },
    at = this.tick(),
  ): void {
    const { customer, module } = this.mustModule(contractId, moduleContractId);
    if (changes.rateName !== undefined) module.rateName = changes.rateName;
    if (changes.price !== undefined) module.price = { amount: changes.price, currency: module.price.currency };
    this.sendSister(customer.studioId, customer.id, at, 'CONTRACT_ADDITIONAL_MODULE_UPDATED', { contractId, moduleContractId });
  }

  /** Cancels a module: it ends 30 days later (or at its end, if sooner); sends CONTRACT_ADDITIONAL_MODULE_CANCELLED. */
  cancelAdditionalModule(contractId: number, moduleContractId: number, at = this.tick()): void {
    const { customer, module } = this.mustModule(contractId, moduleContractId);
    if (module.cancelled) throw new Error(`module contract ${moduleContractId} is already cancelled`);
    module.cancelled = true;
    module.cancellationDate = isoDate(at);
    const end = isoDate(at + 30 * DAY);
    if (end < module.endDate) module.endDate = end;
    this.sendSister(customer.studioId, customer.id, at, 'CONTRACT_ADDITIONAL_MODULE_CANCELLED', { contractId, moduleContractId });
  }

  /** Deletes a module (booked by mistake: it is no longer listed); sends CONTRACT_ADDITIONAL_MODULE_DELETED. */
  deleteAdditionalModule(contractId: number, moduleContractId: number, at = this.tick()): void {
    const { contract, customer } = this.mustModule(contractId, moduleContractId);
    contract.additionalModules = contract.additionalModules.filter((m) => m.moduleContractId !== moduleContractId);
    this.sendSister(customer.studioId, customer.id, at, 'CONTRACT_ADDITIONAL_MODULE_DELETED', { contractId, moduleContractId });
  }

  /** Hires someone at a studio; sends EMPLOYEE_CREATED with that studio's key. */
  createEmployee(
    studioId: number,
    fields: Partial<Pick<WorldEmployee, 'firstName' | 'lastName' | 'businessRole'>> = {},
    at = this.tick(),
  ): WorldEmployee {
    this.studio(studioId);
    const employee = newEmployee(this.sisterRandom, this.nextId('employee'), studioId, at, fields);
    this.employees.set(employee.id, employee);
    this.sendSister(studioId, employee.id, at, 'EMPLOYEE_CREATED', undefined);
    return employee;
  }

  /** Changes an employee; sends EMPLOYEE_UPDATED. */
  updateEmployee(
    employeeId: number,
    changes: Partial<Pick<WorldEmployee, 'lastName' | 'businessRole' | 'email' | 'phoneNumber' | 'competences'>>,
    at = this.tick(),
  ): void {
    const employee = this.mustEmployee(employeeId);
    Object.assign(employee, changes);
    employee.employeeInitials = initials(employee.firstName, employee.lastName);
    this.sendSister(employee.studioId, employeeId, at, 'EMPLOYEE_UPDATED', undefined);
  }

  /** Removes an employee; sends EMPLOYEE_DELETED. Reads of it answer 404 from then on. */
  deleteEmployee(employeeId: number, at = this.tick()): void {
    const employee = this.mustEmployee(employeeId);
    employee.deletedAt = at;
    this.sendSister(employee.studioId, employeeId, at, 'EMPLOYEE_DELETED', undefined);
  }

  /** Replaces the studio's opening hours and/or closures (kept in time order); sends STUDIO_OPENING_HOURS_UPDATED (entityId: the studio). */
  updateOpeningHours(
    studioId: number,
    changes: { readonly openingHours?: readonly WorldOpeningHours[]; readonly closingHours?: readonly WorldClosingHours[] },
    at = this.tick(),
  ): void {
    const studio = this.studio(studioId);
    if (changes.openingHours) studio.openingHours = changes.openingHours.map((h) => ({ ...h }));
    if (changes.closingHours) studio.closingHours = changes.closingHours.map((h) => ({ ...h })).sort((a, b) => a.from - b.from);
    this.sendSister(studioId, studioId, at, 'STUDIO_OPENING_HOURS_UPDATED', undefined);
  }

  /** Adds a custom customer field to the studio; sends ADDITIONAL_INFORMATION_FIELDS_UPDATED (entityId: the studio). */
  addAdditionalInformationField(
    studioId: number,
    name: string,
    type: WorldAdditionalInformationField['type'] = 'TEXT',
    at = this.tick(),
  ): WorldAdditionalInformationField {
    const studio = this.studio(studioId);
    const field: WorldAdditionalInformationField = { id: this.nextId('informationField'), name, type, mandatory: false };
    studio.additionalInformationFields.push(field);
    this.sendSister(studioId, studioId, at, 'ADDITIONAL_INFORMATION_FIELDS_UPDATED', undefined);
    return field;
  }

  /**
   * Changes the studio's debt-collection settings; sends FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED
   * whose entityId is the studio (the upstream does not say; the settings are the studio's).
   */
  updateDebtCollectionConfiguration(
    studioId: number,
    changes: Partial<Pick<WorldDebtCollectionConfiguration, 'dunningLevels' | 'agencyHandoverAfterDays'>>,
    at = this.tick(),
  ): void {
    const studio = this.studio(studioId);
    Object.assign(studio.debtCollectionConfiguration, changes);
    studio.debtCollectionConfiguration.revision += 1;
    this.sendSister(studioId, studioId, at, 'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED', undefined);
  }

  /** Opens a debt-collection case for a customer at its home studio (no event: the case's changes send them). */
  openDebtCollectionCase(customerId: number, openAmount: number): WorldDebtCollectionCase {
    const customer = this.mustCustomer(customerId, { evenDisabled: true });
    const debtCase: WorldDebtCollectionCase = {
      collectionCaseId: this.nextId('collectionCase'),
      agencyDebtCollectionCaseId: null,
      customerId,
      studioId: customer.studioId,
      status: 'OPEN',
      openAmount,
      adjustments: [],
    };
    this.debtCollectionCases.set(debtCase.collectionCaseId, debtCase);
    return debtCase;
  }

  /**
   * Records a change request on a case (`toAgency`: an agency takes it over and gives it its own id);
   * sends FINANCE_DEBT_COLLECTION_CASE_UPDATED, entityId the new caseAdjustmentRequestId, content
   * `agencyDebtCollectionCaseId` once the agency has the case, else `collectionCaseId`.
   */
  adjustDebtCollectionCase(
    collectionCaseId: number,
    changes: { readonly status?: WorldDebtCollectionCase['status']; readonly openAmount?: number; readonly toAgency?: boolean },
    at = this.tick(),
  ): number {
    const debtCase = this.debtCollectionCases.get(collectionCaseId);
    if (!debtCase) throw new Error(`no debt collection case ${collectionCaseId}`);
    if (changes.toAgency === true && debtCase.agencyDebtCollectionCaseId === null) {
      debtCase.agencyDebtCollectionCaseId = this.nextId('agencyCase');
      debtCase.status = 'WITH_AGENCY';
    }
    if (changes.status !== undefined) debtCase.status = changes.status;
    if (changes.openAmount !== undefined) debtCase.openAmount = changes.openAmount;
    const caseAdjustmentRequestId = this.nextId('caseAdjustment');
    debtCase.adjustments.push({ caseAdjustmentRequestId, at, status: debtCase.status, openAmount: debtCase.openAmount });
    this.sendSister(
      debtCase.studioId,
      caseAdjustmentRequestId,
      at,
      'FINANCE_DEBT_COLLECTION_CASE_UPDATED',
      debtCase.agencyDebtCollectionCaseId !== null
        ? { agencyDebtCollectionCaseId: debtCase.agencyDebtCollectionCaseId }
        : { collectionCaseId },
    );
    return caseAdjustmentRequestId;
  }

  private mustModule(
    contractId: number,
    moduleContractId: number,
  ): { contract: WorldContract; customer: WorldCustomer; module: WorldAdditionalModule } {
    const { contract, customer } = this.mustContract(contractId);
    const module = contract.additionalModules.find((m) => m.moduleContractId === moduleContractId);
    if (!module) throw new Error(`contract ${contractId} has no module contract ${moduleContractId}`);
    return { contract, customer, module };
  }

  /**
   * The webhook stream with a seeded fraction of deliveries lost on the way (as the upstream loses
   * them: never retried). `dropFraction` 0 gives every delivery.
   */
  webhookStream(options: { readonly dropFraction?: number; readonly seed?: number } = {}): {
    delivered: WebhookDelivery[];
    dropped: WebhookDelivery[];
  } {
    const random = new Random(options.seed ?? this.seed + 7919);
    const delivered: WebhookDelivery[] = [];
    const dropped: WebhookDelivery[] = [];
    for (const delivery of this.deliveries) (random.chance(options.dropFraction ?? 0) ? dropped : delivered).push(delivery);
    return { delivered, dropped };
  }

  // ---- generation ----

  private readonly counters = {
    checkin: 100_000,
    contract: 5_000,
    classBooking: 70_000,
    appointmentBooking: 80_000,
    employee: 600,
    accessMedium: 20_000,
    accessRestriction: 25_000,
    idlePeriod: 30_000,
    caseAdjustment: 50_000,
    collectionCase: 45_000,
    agencyCase: 9_100_000,
    informationField: 700,
  };
  /** The next id of a kind (ids of one kind never repeat). */
  nextId(kind: keyof World['counters']): number {
    return (this.counters[kind] += 1);
  }

  /** The next moment after everything so far (for mutations without an explicit time). */
  private tick(): number {
    this.now += 60_000;
    return this.now;
  }

  /** A customer that can still act: not deleted, access not disabled (a deleted-or-disabled one may still be deleted). */
  private mustCustomer(id: number, options: { readonly evenDisabled?: boolean } = {}): WorldCustomer {
    const customer = this.readableCustomer(id);
    if (!customer) throw new Error(`no customer ${id} (or deleted)`);
    if (customer.accessDisabledAt !== null && options.evenDisabled !== true) throw new Error(`customer ${id}'s access is disabled`);
    return customer;
  }

  private mustContract(contractId: number): { contract: WorldContract; customer: WorldCustomer } {
    const contract = this.contracts.find((c) => c.id === contractId);
    if (!contract) throw new Error(`no contract ${contractId} in this world`);
    return { contract, customer: this.mustCustomer(contract.customerId) };
  }

  private mustEmployee(id: number): WorldEmployee {
    const employee = this.employees.get(id);
    if (!employee || employee.deletedAt !== null) throw new Error(`no employee ${id} (or deleted)`);
    return employee;
  }

  /** Sends one sister type; `content` is checked against the type's declared content. */
  private sendSister<T extends SisterEventType>(
    studioId: number,
    entityId: number,
    at: number,
    type: T,
    content: SisterEventContent[T],
  ): void {
    this.send(studioId, entityId, at, type, content as Record<string, unknown> | undefined);
  }

  private send(studioId: number, entityId: number, timestamp: number, type: string, content?: Record<string, unknown>): void {
    if (this.sink) {
      this.sink.push({ studioId, entityId, timestamp, type, ...(content ? { content } : {}) });
      return;
    }
    this.now = Math.max(this.now, timestamp);
    this.deliveries.push({
      studioId,
      webhookKey: this.studio(studioId).webhookKey,
      body: { entityId, uuid: this.uuids.uuid(), payload: [{ timestamp, type, ...(content ? { content } : {}) }] },
    });
  }

  private generate(studioCount: number, customersPerStudio: number): void {
    const r = this.random;
    const pending: PendingDelivery[] = [];
    const emit = (studioId: number, entityId: number, timestamp: number, type: string, content?: Record<string, unknown>) =>
      pending.push({ studioId, entityId, timestamp, type, ...(content ? { content } : {}) });
    const tag = `${this.seed.toString(36)}${r.int(0, 1e9).toString(36)}`;

    for (let n = 1; n <= studioCount; n++) {
      const [city] = CITIES[(n - 1) % CITIES.length]!;
      this.studios.push({
        id: 10 + n,
        name: `Stand-in ${city} ${n}`,
        city,
        countryCode: 'DE',
        webhookKey: `whk-standin-${tag}-${n}-${r.uuid().slice(0, 8)}`,
        apiKey: `oak-standin-${tag}-${n}-${r.uuid().slice(0, 8)}`,
        capacity: 100 + 25 * n,
        openingHours: [],
        closingHours: [],
        additionalInformationFields: [],
        debtCollectionConfiguration: { revision: 1, dunningLevels: 3, agencyHandoverAfterDays: 60 },
      });
    }

    let classId = 300,
      slotId = 3000,
      locationId = 40,
      deviceId = 900,
      runId = 40,
      exportId = 60;
    for (const studio of this.studios) {
      for (let d = 0; d < 2; d++) {
        deviceId += 1;
        const device: WorldDevice = {
          id: deviceId,
          studioId: studio.id,
          name: `${studio.city} reader ${d + 1}`,
          active: d === 0,
          model: r.pick(['GENERIC_VENDING_READER', 'GENERIC_CARD_READER', 'GENERIC_TIME_READER'] as const),
          createdAt: this.startAt + r.int(1, 12) * HOUR,
        };
        this.devices.push(device);
        emit(studio.id, device.id, device.createdAt, 'DEVICE_CREATED');
      }
      runId += 1;
      const run: WorldDebtCollectionRun = {
        id: runId,
        studioId: studio.id,
        createdAt: this.startAt + r.int(2, 10) * DAY,
        collectionDate: isoDate(this.startAt + 11 * DAY),
        debtCollectionType: r.pick(['TRUST', 'PURCHASE'] as const),
        status: r.pick(['INTERNAL_PROCESSING', 'COMPLETED', 'FAILED'] as const),
        origin: 'MANUAL',
      };
      this.debtCollectionRuns.set(run.id, run);
      emit(studio.id, run.id, run.createdAt, 'FINANCE_DEBT_COLLECTION_RUN_CREATED');
      exportId += 1;
      const taxExport: WorldTaxAdvisorExport = {
        id: exportId,
        studioId: studio.id,
        createdAt: this.startAt + r.int(3, 12) * DAY,
        fromDate: isoDate(this.startAt - 30 * DAY),
        toDate: isoDate(this.startAt),
        exportFileFormat: r.pick(['JSON', 'CSV', 'XLSX'] as const),
        exportFormat: r.pick(['SINGLE', 'AGGREGATED'] as const),
      };
      this.taxAdvisorExports.set(taxExport.id, taxExport);
      emit(studio.id, taxExport.id, taxExport.createdAt, 'TAX_ADVISOR_EXPORT_CREATED');

      for (let c = 0; c < 2; c++) {
        classId += 1;
        const [title, category] = r.pick(CLASS_TITLES);
        const cls: WorldClass = {
          id: classId,
          studioId: studio.id,
          title,
          type: r.chance(0.8) ? 'STUDIO' : 'STREAM',
          duration: r.pick([45, 60, 90]),
          category,
          bookable: true,
        };
        this.classes.set(cls.id, cls);
        locationId += 1;
        for (let day = 2; day < (this.endAt - this.startAt) / DAY; day += 3) {
          slotId += 1;
          const startAt = this.startAt + day * DAY + r.int(7, 19) * HOUR;
          const slot: WorldSlot = {
            id: slotId,
            classId: cls.id,
            startAt,
            endAt: startAt + cls.duration * 60_000,
            maxParticipants: r.pick([12, 16, 20]),
            instructors: [{ firstName: r.pick(FIRST_NAMES), lastName: r.pick(LAST_NAMES) }],
            location: { id: locationId, name: `${title} room` },
            cancelled: false,
          };
          this.slots.set(slot.id, slot);
          if (r.chance(0.3)) emit(studio.id, slot.id, startAt - r.int(24, 72) * HOUR, 'CLASS_SLOT_UPDATED', { classId: cls.id });
          if (r.chance(0.1) && startAt < this.endAt) {
            slot.cancelled = true;
            emit(studio.id, slot.id, startAt - r.int(1, 20) * HOUR, 'CLASS_SLOT_CANCELLED', { classId: cls.id });
          }
        }
      }
    }

    let customerId = 1000;
    for (const studio of this.studios) {
      const studioClasses = [...this.classes.values()].filter((c) => c.studioId === studio.id);
      const studioSlots = [...this.slots.values()].filter((s) => studioClasses.some((c) => c.id === s.classId) && !s.cancelled);
      for (let n = 0; n < customersPerStudio; n++) {
        customerId += 1;
        const firstName = r.pick(FIRST_NAMES),
          lastName = r.pick(LAST_NAMES);
        const [city, zipCode] = r.pick(CITIES);
        const createdAt = this.startAt + r.int(0, 4 * 24) * HOUR + r.int(0, 3599) * 1000;
        const customer: WorldCustomer = {
          id: customerId,
          status: r.pick(['MEMBER', 'MEMBER', 'MEMBER', 'PROSPECT', 'FORMER_MEMBER'] as const),
          accessRefusal: r.chance(0.05),
          customerNumber: `C-${customerId}`,
          studioId: studio.id,
          createdAt,
          firstName,
          lastName,
          dateOfBirth: isoDate(Date.UTC(r.int(1950, 2005), r.int(0, 11), r.int(1, 28))),
          gender: r.pick(['MALE', 'FEMALE', 'UNISEX'] as const),
          email: `${firstName}.${lastName}.${customerId}@example.com`.toLowerCase(),
          phoneNumberPrivate: r.chance(0.5) ? `+49 30 ${r.int(1_000_000, 9_999_999)}` : null,
          phoneNumberMobile: `+49 170 ${r.int(1_000_000, 9_999_999)}`,
          address: {
            street: r.pick(['Hauptstraße', 'Gartenweg', 'Lindenallee']),
            houseNumber: String(r.int(1, 120)),
            zipCode,
            city,
            country: 'DE',
          },
          preferredLanguage: r.pick(['de', 'en']),
          iban: `DE${r.int(10, 99)}${String(r.int(0, 1e9)).padStart(9, '0')}${String(r.int(0, 1e9)).padStart(9, '0')}`,
          deletedAt: null,
          accessDisabledAt: null,
          accessMedia: [],
          accessRestrictions: [],
        };
        this.customers.set(customer.id, customer);
        emit(studio.id, customer.id, createdAt, 'CUSTOMER_CREATED');
        this.communicationPreferences.set(customer.id, [
          {
            messageCategory: 'GENERAL',
            channels: [
              { communicationChannel: 'EMAIL', active: true },
              { communicationChannel: 'LETTER', active: false },
            ],
          },
          { messageCategory: 'NEWSLETTER', channels: [{ communicationChannel: 'EMAIL', active: r.chance(0.5) }] },
        ]);
        if (r.chance(0.2)) emit(studio.id, customer.id, createdAt + r.int(1, 5) * DAY, 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED');
        if (r.chance(0.2)) emit(studio.id, customer.id, createdAt + r.int(1, 5) * DAY + 17_000, 'CUSTOMER_UPDATED');

        if (customer.status !== 'PROSPECT') {
          const contractCreatedAt = createdAt + r.int(5, 120) * 60_000;
          const cancelled = customer.status === 'FORMER_MEMBER';
          const price = r.pick([19.99, 29.9, 39.5, 49]);
          const contract: WorldContract = {
            id: this.nextId('contract'),
            customerId: customer.id,
            rateName: r.pick(['Basic', 'Premium', 'Flex']),
            contractStatus: cancelled ? 'INACTIVE' : 'ACTIVE',
            createdAt: contractCreatedAt,
            startDate: isoDate(contractCreatedAt),
            endDate: isoDate(contractCreatedAt + 365 * DAY),
            cancelled,
            cancellationDate: cancelled ? isoDate(contractCreatedAt + 2 * DAY) : null,
            term: { periodValue: r.pick([1, 12]), periodUnit: 'MONTH' },
            basePrice: { amount: price, currency: 'EUR' },
            currentPrice: { amount: r.chance(0.8) ? price : price - 5, currency: 'EUR' },
            idlePeriods: [],
            additionalModules: [],
            checkinStudioIds: [studio.id],
          };
          this.contracts.push(contract);
          emit(studio.id, customer.id, contract.createdAt, 'CONTRACT_CREATED', { contractId: contract.id });
        }

        // Visits: one per chosen day, mostly at the home studio; the last may still be open.
        let day = Math.ceil((createdAt - this.startAt) / DAY);
        const lastDay = (this.endAt - this.startAt) / DAY;
        while ((day += r.int(1, 4)) < lastDay) {
          const at = this.startAt + day * DAY + r.int(6, 21) * HOUR + r.int(0, 3599) * 1000;
          if (at >= this.endAt) break;
          const where = r.chance(0.8) ? studio : r.pick(this.studios);
          const out = at + r.int(20, 150) * 60_000;
          const checkin: WorldCheckin = {
            checkinId: this.nextId('checkin'),
            customerId: customer.id,
            studioId: where.id,
            checkInAt: at,
            checkOutAt: out < this.endAt && r.chance(0.95) ? out : null,
          };
          this.checkins.push(checkin);
          emit(where.id, customer.id, at, 'CUSTOMER_CHECKIN');
          if (checkin.checkOutAt !== null) emit(where.id, customer.id, checkin.checkOutAt, 'CUSTOMER_CHECKOUT');
        }

        // Bookings at the home studio (booking lists are per studio: see server.ts).
        for (const slot of studioSlots) {
          if (slot.startAt <= createdAt + HOUR || !r.chance(0.25)) continue;
          const bookedAt = Math.max(createdAt + 30 * 60_000, slot.startAt - r.int(2, 96) * HOUR);
          const booking: WorldClassBooking = {
            bookingId: this.nextId('classBooking'),
            customerId: customer.id,
            classId: slot.classId,
            classSlotId: slot.id,
            bookedAt,
            cancelledAt: r.chance(0.2) ? bookedAt + Math.floor((slot.startAt - bookedAt) * r.next()) : null,
          };
          if (booking.bookedAt >= this.endAt || (booking.cancelledAt ?? 0) >= this.endAt) continue;
          this.classBookings.set(booking.bookingId, booking);
          emit(studio.id, booking.bookingId, booking.bookedAt, 'CLASS_BOOKING_CREATED');
          if (booking.cancelledAt !== null) emit(studio.id, booking.bookingId, booking.cancelledAt, 'CLASS_BOOKING_CANCELLED');
        }
        if (r.chance(0.4)) {
          const bookedAt = createdAt + r.int(1, 48) * HOUR;
          const startAt = bookedAt + r.int(24, 96) * HOUR;
          if (bookedAt < this.endAt) {
            const booking: WorldAppointmentBooking = {
              bookingId: this.nextId('appointmentBooking'),
              customerId: customer.id,
              studioId: studio.id,
              title: r.pick(['Personal training', 'Body check', 'Physio']),
              bookedAt,
              startAt,
              endAt: startAt + HOUR,
              cancelledAt: r.chance(0.25) ? Math.min(this.endAt - 1, bookedAt + r.int(1, 20) * HOUR) : null,
            };
            this.appointmentBookings.set(booking.bookingId, booking);
            emit(studio.id, booking.bookingId, bookedAt, 'APPOINTMENT_BOOKING_CREATED');
            if (booking.cancelledAt !== null) emit(studio.id, booking.bookingId, booking.cancelledAt, 'APPOINTMENT_BOOKING_CANCELLED');
          }
        }
      }
    }

    this.sink = pending;
    generateSisterState(this);
    if (this.sisterEvents) generateSisterHistory(this, pending);
    this.sink = null;

    // The upstream sends as things happen: in time order (ties keep generation order).
    pending
      .map((p, index) => ({ p, index }))
      .sort((a, b) => a.p.timestamp - b.p.timestamp || a.index - b.index)
      .forEach(({ p }) => this.send(p.studioId, p.entityId, p.timestamp, p.type, p.content));
    this.now = this.endAt;
  }
}

/** Sets a pause's end and the lengths derived from it: `amount` in days, free days used or a fee of 2 EUR a day. */
function setIdleLength(idle: WorldIdlePeriod, endDate: string | null, free: boolean): void {
  idle.endDate = endDate;
  idle.unlimited = endDate === null;
  const days = endDate === null ? null : Math.round((Date.parse(endDate) - Date.parse(idle.startDate)) / DAY) + 1;
  idle.temporalUnit = 'DAY';
  idle.amount = days;
  idle.usedFreeTermsInDays = free && days !== null ? days : null;
  idle.fee = free ? null : { amount: Math.round((days ?? 30) * 2 * 100) / 100, currency: 'EUR' };
}

function idleContent(contractId: number, idle: WorldIdlePeriod): IdlePeriodContent {
  return {
    contractId,
    idlePeriodId: idle.id,
    ...(idle.amount !== null ? { idlePeriodAmount: idle.amount } : {}),
    ...(idle.usedFreeTermsInDays !== null ? { usedFreeTermsInDays: idle.usedFreeTermsInDays } : {}),
  };
}
