/**
 * The world's records behind the event types the sister platform (Magicline) documents on top of
 * the PerfectGym Next seed page: employees, studio hours and settings, access media and
 * restrictions, idle periods, additional modules, debt-collection cases. Plain data, mutated only
 * by the {@link World} methods that also send the matching webhook.
 */

export type DayOfWeek = 'MONDAY' | 'TUESDAY' | 'WEDNESDAY' | 'THURSDAY' | 'FRIDAY' | 'SATURDAY' | 'SUNDAY';

export const DAYS_OF_WEEK: readonly DayOfWeek[] = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

/** A range of weekdays with the same hours (`dayOfWeekFrom` to `dayOfWeekTo`, inclusive). */
export interface WorldOpeningHours {
  dayOfWeekFrom: DayOfWeek;
  dayOfWeekTo: DayOfWeek;
  /** Local wall time `HH:mm`. */
  timeFrom: string;
  timeTo: string;
}

/** A closure (a holiday, maintenance), epoch ms. */
export interface WorldClosingHours {
  reason: string;
  from: number;
  to: number;
}

/** A custom customer field the studio defines (ADDITIONAL_INFORMATION_FIELDS_UPDATED; no documented read). */
export interface WorldAdditionalInformationField {
  readonly id: number;
  name: string;
  type: 'TEXT' | 'NUMBER' | 'BOOLEAN' | 'DATE';
  mandatory: boolean;
}

/** The studio's debt-collection settings (FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED; no documented read). */
export interface WorldDebtCollectionConfiguration {
  /** Counts the changes, 1 at the start. */
  revision: number;
  dunningLevels: number;
  agencyHandoverAfterDays: number;
}

export type EmployeeBusinessRole =
  'STUDIO_OWNER' | 'STUDIO_MANAGER' | 'TRAINER' | 'SERVICE_EMPLOYEE' | 'ADMINISTRATION_OR_FINANCE' | 'MARKETING';

export interface WorldEmployee {
  readonly id: number;
  /** The studio whose webhook key its events carry. Reads by id see the whole tenant. */
  readonly studioId: number;
  readonly createdAt: number;
  firstName: string;
  lastName: string;
  gender: 'MALE' | 'FEMALE' | 'UNISEX';
  employeeInitials: string;
  businessRole: EmployeeBusinessRole | null;
  email: string | null;
  phoneNumber: string | null;
  competences: { id: number; name: string }[];
  /** Set by {@link World.deleteEmployee}: reads answer 404 from then on. */
  deletedAt: number | null;
}

/** A card or tag (CUSTOMER_ACCESS_MEDIUM_*; no documented read). */
export interface WorldAccessMedium {
  readonly id: number;
  type: 'CARD' | 'WRISTBAND' | 'KEY_FOB';
  /** The printed or encoded number; a replacement gets a new one. */
  identifier: string;
  readonly createdAt: number;
}

/** CUSTOMER_ACCESS_RESTRICTION_*: while any is set, the customer reads `accessRefusal: true`. */
export interface WorldAccessRestriction {
  readonly id: number;
  readonly reason: string;
  readonly createdAt: number;
}

/** A contract pause. Cancelling it removes it (the pause never happens). */
export interface WorldIdlePeriod {
  readonly id: number;
  readonly createdAt: number;
  startDate: string;
  /** null when unlimited. */
  endDate: string | null;
  unlimited: boolean;
  reason: string;
  temporalUnit: 'DAY' | 'WEEK' | 'MONTH';
  /** Length in `temporalUnit`s (null when unlimited); sent as `idlePeriodAmount`. */
  amount: number | null;
  /** Free days used by this pause (null when it is charged); sent as `usedFreeTermsInDays`. */
  usedFreeTermsInDays: number | null;
  fee: { amount: number; currency: string } | null;
}

/** An add-on contract of a main contract (towels, sauna, drinks). Deleting it removes it. */
export interface WorldAdditionalModule {
  /** A contract id: module contracts draw from the same counter as main contracts. */
  readonly moduleContractId: number;
  readonly createdAt: number;
  rateName: string;
  status: 'ACTIVE' | 'INACTIVE';
  startDate: string;
  endDate: string;
  cancelled: boolean;
  cancellationDate: string | null;
  price: { amount: number; currency: string };
}

/** One change request of a debt-collection case; its id is FINANCE_DEBT_COLLECTION_CASE_UPDATED's entityId. */
export interface WorldCaseAdjustment {
  readonly caseAdjustmentRequestId: number;
  readonly at: number;
  readonly status: WorldDebtCollectionCase['status'];
  readonly openAmount: number;
}

/** A customer's debt-collection case (no documented read). */
export interface WorldDebtCollectionCase {
  readonly collectionCaseId: number;
  /** Set once an agency took the case over; then the events carry it instead of `collectionCaseId`. */
  agencyDebtCollectionCaseId: number | null;
  readonly customerId: number;
  /** The studio whose key its events carry. */
  readonly studioId: number;
  status: 'OPEN' | 'WITH_AGENCY' | 'PAID' | 'CLOSED';
  openAmount: number;
  readonly adjustments: WorldCaseAdjustment[];
}
