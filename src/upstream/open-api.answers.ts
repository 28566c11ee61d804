import type {
  Slice,
  UpstreamAddress,
  UpstreamAppointmentBooking,
  UpstreamCheckin,
  UpstreamClass,
  UpstreamClassBooking,
  UpstreamClassSlot,
  UpstreamCommunicationPreference,
  UpstreamAdditionalModule,
  UpstreamContract,
  UpstreamIdlePeriod,
  UpstreamCustomer,
  UpstreamDebtCollectionRun,
  UpstreamDevice,
  UpstreamEmployee,
  UpstreamMoney,
  UpstreamStudioInformation,
  UpstreamTaxAdvisorExport,
  UpstreamUtilization,
} from './open-api.js';
import { parseZonedDateTime } from './zoned-date-time.js';

/**
 * Validation of Open API answers at the boundary: `unknown` in, the typed shapes of open-api.ts out.
 *
 * Fields the documentation marks as always present are required; optional ones become `null` when
 * absent. Unknown properties are ignored (the upstream grows), enums stay open strings, and
 * expiring links (`imageUrl`, `downloadUrl`) are never copied. A mismatch throws
 * {@link AnswerError} naming the field (`result[3].checkInDateTime`), what was expected and what came.
 */
export class AnswerError extends Error {
  override name = 'AnswerError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** What a value is, for messages. */
function what(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** One object of an answer, read field by field with its path for messages. */
class Fields {
  constructor(
    readonly path: string,
    private readonly value: Record<string, unknown>,
  ) {}

  static of(value: unknown, path: string): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new AnswerError(path, `expected an object, got ${what(value)}`);
    return new Fields(path, value as Record<string, unknown>);
  }

  private at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  private fail(key: string, expected: string): never {
    throw new AnswerError(this.at(key), `expected ${expected}, got ${what(this.value[key])}`);
  }

  raw(key: string): unknown {
    return this.value[key];
  }

  /** An int64 id as JSON integer or digit string, within the safe range. */
  id(key: string): number {
    const id = toId(this.value[key]);
    return id ?? this.fail(key, 'an integer id');
  }

  optionalId(key: string): number | null {
    const raw = this.value[key];
    return raw === undefined || raw === null ? null : this.id(key);
  }

  integer(key: string): number {
    const raw = this.value[key];
    return typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : this.fail(key, 'an integer');
  }

  optionalInteger(key: string): number | null {
    const raw = this.value[key];
    return raw === undefined || raw === null ? null : this.integer(key);
  }

  string(key: string): string {
    const raw = this.value[key];
    return typeof raw === 'string' ? raw : this.fail(key, 'a string');
  }

  optionalString(key: string): string | null {
    const raw = this.value[key];
    if (raw === undefined || raw === null) return null;
    if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw); // e.g. a numeric customerNumber
    return this.string(key);
  }

  boolean(key: string): boolean {
    const raw = this.value[key];
    return typeof raw === 'boolean' ? raw : this.fail(key, 'true or false');
  }

  optionalBoolean(key: string): boolean | null {
    const raw = this.value[key];
    return raw === undefined || raw === null ? null : this.boolean(key);
  }

  /** A zoned date-time, e.g. `2022-06-15T23:59:59.999+02:00[Europe/Berlin]`. */
  optionalDateTime(key: string): Date | null {
    const raw = this.value[key];
    if (raw === undefined || raw === null) return null;
    const date = typeof raw === 'string' ? parseZonedDateTime(raw) : undefined;
    return date ?? this.fail(key, 'a date-time such as 2022-06-15T23:59:59.999+02:00[Europe/Berlin]');
  }

  /** An ISO calendar date `YYYY-MM-DD` (a date-time is cut to its date as written). */
  optionalDate(key: string): string | null {
    const raw = this.value[key];
    if (raw === undefined || raw === null) return null;
    if (typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}(?:$|T)/.test(raw) && !Number.isNaN(Date.parse(raw.slice(0, 10))))
      return raw.slice(0, 10);
    return this.fail(key, 'a calendar date such as 2022-06-15');
  }

  object(key: string): Fields {
    return Fields.of(this.value[key], this.at(key));
  }

  optionalObject(key: string): Fields | null {
    const raw = this.value[key];
    return raw === undefined || raw === null ? null : this.object(key);
  }

  optionalArray(key: string): { value: unknown; path: string }[] {
    const raw = this.value[key];
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) return this.fail(key, 'an array');
    return raw.map((value, index) => ({ value, path: `${this.at(key)}[${index}]` }));
  }
}

function toId(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) {
    const id = Number(value);
    return Number.isSafeInteger(id) ? id : undefined;
  }
  return undefined;
}

/** A bare-array answer. */
export function parseArray<T>(body: unknown, item: (fields: Fields) => T): T[] {
  if (!Array.isArray(body)) throw new AnswerError('(body)', `expected an array, got ${what(body)}`);
  return body.map((value, index) => item(Fields.of(value, `[${index}]`)));
}

/** A slice: `{result: [...], offset, hasNext}`. */
export function parseSlice<T>(body: unknown, item: (fields: Fields) => T): Slice<T> {
  const fields = Fields.of(body, '');
  const result = fields.raw('result');
  if (!Array.isArray(result)) throw new AnswerError('result', `expected an array, got ${what(result)}`);
  const rawOffset = fields.raw('offset');
  // The offset is opaque; some deployments send it as a number. It goes back unchanged, as text.
  const offset = typeof rawOffset === 'number' && Number.isFinite(rawOffset) ? String(rawOffset) : fields.string('offset');
  return { result: result.map((value, index) => item(Fields.of(value, `result[${index}]`))), offset, hasNext: fields.boolean('hasNext') };
}

/** A single-object answer. */
export function parseObject<T>(body: unknown, item: (fields: Fields) => T): T {
  return item(Fields.of(body, ''));
}

function address(f: Fields | null): UpstreamAddress | null {
  if (!f) return null;
  return {
    street: f.optionalString('street'),
    houseNumber: f.optionalString('houseNumber'),
    zipCode: f.optionalString('zipCode'),
    city: f.optionalString('city'),
    country: f.optionalString('country') ?? f.optionalString('countryCode'),
  };
}

export function customer(f: Fields): UpstreamCustomer {
  return {
    id: f.id('id'),
    status: f.string('status'),
    accessRefusal: f.boolean('accessRefusal'),
    customerNumber: f.optionalString('customerNumber'),
    studioId: f.optionalId('studioId'),
    createdDateTime: f.optionalDateTime('createdDateTime'),
    firstName: f.optionalString('firstName'),
    lastName: f.optionalString('lastName'),
    dateOfBirth: f.optionalDate('dateOfBirth'),
    gender: f.optionalString('gender'),
    email: f.optionalString('email'),
    phoneNumberPrivate: f.optionalString('phoneNumberPrivate'),
    phoneNumberMobile: f.optionalString('phoneNumberMobile'),
    address: address(f.optionalObject('address')),
    preferredLanguage: languageOf(f),
    // imageUrl: expires after 15 minutes, never kept. bankAccount: not needed, not kept.
  };
}

/** `preferredLanguage` is a string or `{languageCode, countryCode}` depending on the version. */
function languageOf(f: Fields): string | null {
  const raw = f.raw('preferredLanguage');
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const language = f.object('preferredLanguage');
    const code = language.optionalString('languageCode');
    const country = language.optionalString('countryCode');
    return code === null ? null : country === null ? code : `${code}_${country}`;
  }
  return f.optionalString('preferredLanguage');
}

export function checkin(f: Fields): UpstreamCheckin {
  return {
    checkinId: f.id('checkinId'),
    checkInDateTime: f.optionalDateTime('checkInDateTime'),
    checkOutDateTime: f.optionalDateTime('checkOutDateTime'),
    studioId: f.optionalId('studioId'),
    studioName: f.optionalString('studioName'),
  };
}

export function utilization(f: Fields): UpstreamUtilization {
  return { count: f.integer('count'), capacity: f.optionalInteger('capacity') };
}

function money(f: Fields | null): UpstreamMoney | null {
  if (!f) return null;
  const raw = f.raw('amount');
  const amount = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : undefined;
  if (amount === undefined || !Number.isFinite(amount))
    throw new AnswerError(`${f.path}.amount`, `expected a decimal amount, got ${what(raw)}`);
  return { amount, currency: f.string('currency') };
}

export function contract(f: Fields): UpstreamContract {
  const term = f.optionalObject('term');
  const price = f.optionalObject('priceDetails');
  return {
    id: f.id('id'),
    rateName: f.optionalString('rateName'),
    contractStatus: f.string('contractStatus'),
    createdDate: f.optionalDate('createdDate'),
    startDate: f.optionalDate('startDate'),
    endDate: f.optionalDate('endDate'),
    cancelled: f.optionalBoolean('cancelled') ?? false,
    cancellationDate: f.optionalDate('cancellationDate'),
    term: term ? { periodValue: term.integer('periodValue'), periodUnit: term.string('periodUnit') } : null,
    basePrice: money(price?.optionalObject('basePrice') ?? null),
    currentPrice: money(price?.optionalObject('currentPrice') ?? null),
    idlePeriods: f.optionalArray('idlePeriods').map(({ value, path }) => idlePeriod(Fields.of(value, path))),
    additionalModules: f.optionalArray('additionalModules').map(({ value, path }) => additionalModule(Fields.of(value, path))),
  };
}

function idlePeriod(f: Fields): UpstreamIdlePeriod {
  return {
    id: f.id('id'),
    startDate: f.optionalDate('startDate'),
    endDate: f.optionalDate('endDate'),
    unlimited: f.optionalBoolean('unlimited'),
  };
}

function additionalModule(f: Fields): UpstreamAdditionalModule {
  return {
    moduleContractId: f.optionalId('moduleContractId') ?? f.id('id'),
    rateName: f.optionalString('rateName'),
    status: f.optionalString('status') ?? f.optionalString('contractStatus'),
    startDate: f.optionalDate('startDate'),
    endDate: f.optionalDate('endDate'),
    cancelled: f.optionalBoolean('cancelled'),
    cancellationDate: f.optionalDate('cancellationDate'),
    price: money(f.optionalObject('price')),
  };
}

export function classBooking(f: Fields): UpstreamClassBooking {
  return {
    bookingId: f.id('bookingId'),
    bookingStatus: f.string('bookingStatus'),
    classSlotId: f.id('classSlotId'),
    classId: f.id('classId'),
    customerId: f.id('customerId'),
    classSlotStatus: f.optionalString('classSlotStatus'),
    participantStatus: f.optionalString('participantStatus'),
  };
}

export function classSlot(f: Fields): UpstreamClassSlot {
  const location = f.optionalObject('location');
  return {
    id: f.id('id'),
    startDateTime: f.optionalDateTime('startDateTime'),
    endDateTime: f.optionalDateTime('endDateTime'),
    maxParticipants: f.optionalInteger('maxParticipants'),
    bookedParticipants: f.optionalInteger('bookedParticipants'),
    waitingListParticipants: f.optionalInteger('waitingListParticipants'),
    instructors: f.optionalArray('instructors').map(instructorName),
    location: location ? { id: location.id('id'), name: location.optionalString('name') } : null,
  };
}

/** An instructor is a name, or `{firstName, lastName, imageUrl?}` (the image link is dropped). */
function instructorName({ value, path }: { value: unknown; path: string }): string {
  if (typeof value === 'string') return value;
  const f = Fields.of(value, path);
  const name = [f.optionalString('firstName'), f.optionalString('lastName')].filter((part) => part !== null && part !== '').join(' ');
  return name || (f.optionalString('name') ?? '');
}

export function upstreamClass(f: Fields): UpstreamClass {
  return {
    id: f.id('id'),
    title: f.optionalString('title'),
    type: f.optionalString('type'),
    duration: f.optionalInteger('duration'),
    category: f.optionalString('category'),
    bookable: f.optionalBoolean('bookable') ?? false,
  };
}

export function appointmentBooking(f: Fields): UpstreamAppointmentBooking {
  return {
    bookingId: f.id('bookingId'),
    bookingStatus: f.string('bookingStatus'),
    startDateTime: f.optionalDateTime('startDateTime'),
    endDateTime: f.optionalDateTime('endDateTime'),
    appointmentStatus: f.optionalString('appointmentStatus'),
    participantStatus: f.optionalString('participantStatus'),
    customerId: f.id('customerId'),
    title: f.optionalString('title'),
  };
}

export function device(f: Fields): UpstreamDevice {
  return { id: f.id('id'), name: f.optionalString('name'), active: f.boolean('active'), model: f.optionalString('model') };
}

export function debtCollectionRun(f: Fields): UpstreamDebtCollectionRun {
  return {
    collectionDate: f.optionalDate('collectionDate'),
    debtCollectionType: f.optionalString('debtCollectionType'),
    status: f.optionalString('status'),
    origin: f.optionalString('origin'),
  };
}

export function taxAdvisorExport(f: Fields): UpstreamTaxAdvisorExport {
  // downloadUrl expires after 15 minutes: deliberately not read.
  return {
    fromDate: f.optionalDate('fromDate'),
    toDate: f.optionalDate('toDate'),
    exportFileFormat: f.optionalString('exportFileFormat'),
    exportFormat: f.optionalString('exportFormat'),
  };
}

export function communicationPreference(f: Fields): UpstreamCommunicationPreference {
  return {
    messageCategory: f.optionalString('messageCategory'),
    channels: f.optionalArray('channels').map(({ value, path }) => {
      const channel = Fields.of(value, path);
      return { communicationChannel: channel.string('communicationChannel'), active: channel.optionalBoolean('active') };
    }),
  };
}

export function studioInformation(f: Fields): UpstreamStudioInformation {
  const address = f.optionalObject('address');
  return {
    studioId: f.id('studioId'),
    name: f.optionalString('name') ?? f.optionalString('studioName'),
    city: f.optionalString('city') ?? address?.optionalString('city') ?? null,
    countryCode: f.optionalString('countryCode') ?? address?.optionalString('countryCode') ?? null,
    openingHours: f.optionalArray('openingHours').map(({ value, path }) => {
      const hours = Fields.of(value, path);
      return {
        dayOfWeekFrom: hours.string('dayOfWeekFrom'),
        dayOfWeekTo: hours.string('dayOfWeekTo'),
        timeFrom: hours.string('timeFrom'),
        timeTo: hours.string('timeTo'),
      };
    }),
    closingHours: f.optionalArray('closingHours').map(({ value, path }) => {
      const closure = Fields.of(value, path);
      return {
        reason: closure.optionalString('reason'),
        dateTimeFrom: closure.optionalDateTime('dateTimeFrom'),
        dateTimeTo: closure.optionalDateTime('dateTimeTo'),
      };
    }),
  };
}

/**
 * An employee. The documented required fields are required; `businessRole`, the contact fields and
 * `employeeCompetences` may be absent. A competence is `{id?, name}` (a bare name is taken too).
 */
export function employee(f: Fields): UpstreamEmployee {
  return {
    id: f.id('id'),
    firstName: f.string('firstName'),
    lastName: f.string('lastName'),
    gender: f.string('gender'),
    employeeInitials: f.string('employeeInitials'),
    businessRole: f.optionalString('businessRole'),
    email: f.optionalString('email'),
    phoneNumber: f.optionalString('phoneNumber'),
    employeeCompetences: f.optionalArray('employeeCompetences').map(({ value, path }) => {
      if (typeof value === 'string') return { id: null, name: value };
      const competence = Fields.of(value, path);
      return { id: competence.optionalId('id'), name: competence.string('name') };
    }),
  };
}

export type { Fields };
