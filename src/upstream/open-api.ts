/**
 * The upstream Open API as this service uses it: the shapes it answers with (after parsing and
 * validation at the boundary) and the client interface that hydration and reconciliation depend on.
 *
 * Values are already typed here: zoned date-times (`2022-06-15T23:59:59.999+02:00[Europe/Berlin]`)
 * arrive as `Date`, calendar dates (`1990-04-01`) stay ISO date strings, ids are safe integers,
 * enums are open strings (the upstream adds values without notice). Expiring image and document URLs
 * are deliberately absent: they must never be stored as durable links.
 */

/** One page of a sliced list: pass `offset` back unchanged to get the next one while `hasNext`. */
export interface Slice<T> {
  readonly result: readonly T[];
  readonly offset: string;
  readonly hasNext: boolean;
}

export interface SliceRequest {
  /** Opaque; omit for the first slice. */
  readonly offset?: string | undefined;
  /** @default 100 */
  readonly sliceSize?: number | undefined;
}

export interface UpstreamAddress {
  readonly street: string | null;
  readonly houseNumber: string | null;
  readonly zipCode: string | null;
  readonly city: string | null;
  readonly country: string | null;
}

/** `GET /v1/customers/{customerId}` and the items of `GET /v1/customers`. Personal data is nullable. */
export interface UpstreamCustomer {
  readonly id: number;
  /** MEMBER, PROSPECT, FORMER_MEMBER, ... */
  readonly status: string;
  readonly accessRefusal: boolean;
  readonly customerNumber: string | null;
  /** Home studio (upstream studio id). */
  readonly studioId: number | null;
  readonly createdDateTime: Date | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  /** ISO calendar date. */
  readonly dateOfBirth: string | null;
  /** MALE, FEMALE, UNISEX */
  readonly gender: string | null;
  readonly email: string | null;
  readonly phoneNumberPrivate: string | null;
  readonly phoneNumberMobile: string | null;
  readonly address: UpstreamAddress | null;
  readonly preferredLanguage: string | null;
}

/** Items of `GET /v1/customers/{id}/activities/checkins` (sliced, `fromDate`/`toDate`). */
export interface UpstreamCheckin {
  readonly checkinId: number;
  readonly checkInDateTime: Date | null;
  readonly checkOutDateTime: Date | null;
  readonly studioId: number | null;
  readonly studioName: string | null;
}

/** `GET /v1/studios/utilization` */
export interface UpstreamUtilization {
  readonly count: number;
  readonly capacity: number | null;
}

export interface UpstreamMoney {
  readonly amount: number;
  readonly currency: string;
}

/** Items of `GET /v1/customers/{id}/contracts` (a bare array; there is no get-by-id). */
export interface UpstreamContract {
  readonly id: number;
  readonly rateName: string | null;
  /** ACTIVE, INACTIVE */
  readonly contractStatus: string;
  /** ISO calendar dates. */
  readonly createdDate: string | null;
  readonly startDate: string | null;
  readonly endDate: string | null;
  readonly cancelled: boolean;
  readonly cancellationDate: string | null;
  readonly term: { readonly periodValue: number; readonly periodUnit: string } | null;
  readonly basePrice: UpstreamMoney | null;
  readonly currentPrice: UpstreamMoney | null;
  /** The pauses in force (a cancelled one is no longer listed); [] when the answer has none. */
  readonly idlePeriods: readonly UpstreamIdlePeriod[];
  /** The add-on modules (a deleted one is no longer listed; a cancelled one is, `cancelled: true`); [] when none. */
  readonly additionalModules: readonly UpstreamAdditionalModule[];
}

/** An item of a contract's `idlePeriods`. */
export interface UpstreamIdlePeriod {
  readonly id: number;
  /** ISO calendar dates; `endDate` null when unlimited. */
  readonly startDate: string | null;
  readonly endDate: string | null;
  readonly unlimited: boolean | null;
}

/** An item of a contract's `additionalModules`. */
export interface UpstreamAdditionalModule {
  /** The module's own contract id (`moduleContractId`, or `id`). */
  readonly moduleContractId: number;
  readonly rateName: string | null;
  /** ACTIVE, INACTIVE */
  readonly status: string | null;
  readonly startDate: string | null;
  readonly endDate: string | null;
  readonly cancelled: boolean | null;
  readonly cancellationDate: string | null;
  readonly price: UpstreamMoney | null;
}

/** `GET /v1/classes/booking/{bookingId}` */
export interface UpstreamClassBooking {
  readonly bookingId: number;
  /** BOOKED, BOOKED_WITH_CONFIRMATION_REQUIRED, WAITING_LIST, CANCELED */
  readonly bookingStatus: string;
  readonly classSlotId: number;
  readonly classId: number;
  readonly customerId: number;
  /** PLANNED, CANCELED, COMPLETED */
  readonly classSlotStatus: string | null;
  /** PARTICIPATING, NOT_PARTICIPATING, UNSET */
  readonly participantStatus: string | null;
}

/** `GET /v1/classes/{classId}/slots/{classSlotId}` */
export interface UpstreamClassSlot {
  readonly id: number;
  readonly startDateTime: Date | null;
  readonly endDateTime: Date | null;
  readonly maxParticipants: number | null;
  readonly bookedParticipants: number | null;
  readonly waitingListParticipants: number | null;
  /** Instructor display names. */
  readonly instructors: readonly string[];
  readonly location: { readonly id: number; readonly name: string | null } | null;
}

/** `GET /v1/classes/{classId}` */
export interface UpstreamClass {
  readonly id: number;
  readonly title: string | null;
  /** STUDIO, STREAM */
  readonly type: string | null;
  /** Minutes. */
  readonly duration: number | null;
  readonly category: string | null;
  readonly bookable: boolean;
}

/** `GET /v1/appointments/booking/{bookingId}` */
export interface UpstreamAppointmentBooking {
  readonly bookingId: number;
  /** BOOKED, BOOKED_WITH_CONFIRMATION_REQUIRED, CANCELED */
  readonly bookingStatus: string;
  readonly startDateTime: Date | null;
  readonly endDateTime: Date | null;
  /** PLANNED, CANCELED, COMPLETED */
  readonly appointmentStatus: string | null;
  readonly participantStatus: string | null;
  readonly customerId: number;
  readonly title: string | null;
}

/** Items of `GET /v1/devices` (a bare array). */
export interface UpstreamDevice {
  readonly id: number;
  readonly name: string | null;
  readonly active: boolean;
  /** GENERIC_VENDING_READER, GENERIC_CARD_READER, GENERIC_TIME_READER */
  readonly model: string | null;
}

/** `GET /v1/debt-collection/{runId}/details` */
export interface UpstreamDebtCollectionRun {
  readonly collectionDate: string | null;
  /** TRUST, PURCHASE */
  readonly debtCollectionType: string | null;
  /** INTERNAL_PROCESSING, WAITING_FOR_CONFIRMATION, COMPLETED, FAILED */
  readonly status: string | null;
  readonly origin: string | null;
}

/** `GET /v1/taxadvisor/exports/{exportId}` (its expiring `downloadUrl` is dropped on purpose). */
export interface UpstreamTaxAdvisorExport {
  readonly fromDate: string | null;
  readonly toDate: string | null;
  /** JSON, CSV, XLSX */
  readonly exportFileFormat: string | null;
  /** SINGLE, AGGREGATED */
  readonly exportFormat: string | null;
}

/** One of an employee's `employeeCompetences[]`: a name, with the upstream's id when it sends one. */
export interface UpstreamCompetence {
  readonly id: number | null;
  readonly name: string;
}

/** `GET /v1/employees/{employeeId}` (tenant-wide). Names, initials, gender and contact are personal data. */
export interface UpstreamEmployee {
  readonly id: number;
  readonly firstName: string;
  readonly lastName: string;
  /** MALE, FEMALE, UNISEX */
  readonly gender: string;
  readonly employeeInitials: string;
  /** STUDIO_OWNER, STUDIO_MANAGER, TRAINER, SERVICE_EMPLOYEE, ADMINISTRATION_OR_FINANCE, MARKETING; null when none. */
  readonly businessRole: string | null;
  readonly email: string | null;
  readonly phoneNumber: string | null;
  readonly employeeCompetences: readonly UpstreamCompetence[];
}

/** Items of `GET /v1/communications/{customerId}/communication-preferences` (a bare array). */
export interface UpstreamCommunicationPreference {
  /** CONTRACT, GENERAL, APPOINTMENT, NEWSLETTER, LOYALTY_PROGRAM */
  readonly messageCategory: string | null;
  readonly channels: readonly { readonly communicationChannel: string; readonly active: boolean | null }[];
}

/** `GET /v1/studios/information` */
export interface UpstreamStudioInformation {
  readonly studioId: number;
  readonly name: string | null;
  readonly city: string | null;
  readonly countryCode: string | null;
  /** Weekly opening hours; empty when the answer lists none. */
  readonly openingHours: readonly UpstreamOpeningHours[];
  /** Closures outside the usual hours; empty when the answer lists none. */
  readonly closingHours: readonly UpstreamClosingHours[];
}

/** Items of `openingHours`: open from `dayOfWeekFrom` to `dayOfWeekTo` (inclusive), `timeFrom` to `timeTo` local time. */
export interface UpstreamOpeningHours {
  /** MONDAY ... SUNDAY (an open string). */
  readonly dayOfWeekFrom: string;
  readonly dayOfWeekTo: string;
  /** Local wall time, e.g. `06:00`. */
  readonly timeFrom: string;
  readonly timeTo: string;
}

/** Items of `closingHours`. */
export interface UpstreamClosingHours {
  readonly reason: string | null;
  readonly dateTimeFrom: Date | null;
  readonly dateTimeTo: Date | null;
}

/**
 * A failed call, after the client's own retries. `status` is the HTTP status (0 for a network error
 * or a timeout); `traceId` is the upstream's, for its support.
 */
export class OpenApiError extends Error {
  override name = 'OpenApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly endpoint: string,
    readonly errorCode: string | null = null,
    readonly traceId: string | null = null,
  ) {
    super(message);
  }

  /** 404 or 403: the thing is gone or no longer readable (a deleted customer, say): not a fault. */
  get gone(): boolean {
    return this.status === 404 || this.status === 403;
  }

  /** Worth trying again later (429, 5xx, network, timeout). */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/**
 * One studio's view of the Open API (its tenant base URL and its Open API key). Every method
 * rate-limits itself per endpoint, retries 503 and network errors with backoff, waits out 429, and
 * throws {@link OpenApiError} when it gives up.
 */
export interface OpenApi {
  /** `HEAD` on an endpoint: is the key accepted? (200 -> true, 401 -> false) */
  checkKey(): Promise<boolean>;
  /** `POST /v1/studios/confirmActivation` */
  confirmActivation(): Promise<void>;
  getStudioInformation(): Promise<UpstreamStudioInformation>;
  getUtilization(): Promise<UpstreamUtilization>;

  getCustomer(customerId: number): Promise<UpstreamCustomer>;
  listCustomers(slice?: SliceRequest): Promise<Slice<UpstreamCustomer>>;
  listCheckins(
    customerId: number,
    range: { readonly from: Date; readonly to: Date },
    slice?: SliceRequest,
  ): Promise<Slice<UpstreamCheckin>>;
  listContracts(customerId: number): Promise<readonly UpstreamContract[]>;
  getCommunicationPreferences(customerId: number): Promise<readonly UpstreamCommunicationPreference[]>;

  getClassBooking(bookingId: number): Promise<UpstreamClassBooking>;
  /** Class bookings of one customer (for reconciliation), sliced. */
  listCustomerClassBookings(customerId: number, slice?: SliceRequest): Promise<Slice<UpstreamClassBooking>>;
  getClassSlot(classId: number, slotId: number): Promise<UpstreamClassSlot>;
  getClass(classId: number): Promise<UpstreamClass>;

  getAppointmentBooking(bookingId: number): Promise<UpstreamAppointmentBooking>;
  /** Appointment bookings of one customer (for reconciliation), sliced. */
  listCustomerAppointmentBookings(customerId: number, slice?: SliceRequest): Promise<Slice<UpstreamAppointmentBooking>>;

  listDevices(): Promise<readonly UpstreamDevice[]>;
  getDebtCollectionRun(runId: number): Promise<UpstreamDebtCollectionRun>;
  getTaxAdvisorExport(exportId: number): Promise<UpstreamTaxAdvisorExport>;
  getEmployee(employeeId: number): Promise<UpstreamEmployee>;
}
