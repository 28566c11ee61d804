/**
 * What the stand-in answers on the Open API reads of the sister platform's event types, and the
 * webhook `content` it sends with them: the contract the service's hydration can be written against.
 * Date-times are zoned strings (`2026-01-10T00:00:00.000+01:00[Europe/Berlin]`), dates `YYYY-MM-DD`.
 */

export interface MoneyAnswer {
  readonly amount: number;
  readonly currency: string;
}

/** `GET /v1/employees/{employeeId}` (tenant-wide; 404 once deleted). */
export interface EmployeeAnswer {
  readonly id: number;
  readonly firstName: string;
  readonly lastName: string;
  /** MALE, FEMALE, UNISEX */
  readonly gender: string;
  readonly employeeInitials: string;
  /** STUDIO_OWNER, STUDIO_MANAGER, TRAINER, SERVICE_EMPLOYEE, ADMINISTRATION_OR_FINANCE, MARKETING; absent when none. */
  readonly businessRole?: string;
  readonly email?: string;
  readonly phoneNumber?: string;
  readonly employeeCompetences: readonly { readonly id: number; readonly name: string }[];
}

/** `GET /v1/studios/information` (the key's studio). */
export interface StudioInformationAnswer {
  readonly studioId: number;
  readonly name: string;
  readonly city: string;
  readonly countryCode: string;
  readonly openingHours: readonly {
    /** MONDAY ... SUNDAY; `dayOfWeekFrom` to `dayOfWeekTo` inclusive. */
    readonly dayOfWeekFrom: string;
    readonly dayOfWeekTo: string;
    /** Local wall time `HH:mm`. */
    readonly timeFrom: string;
    readonly timeTo: string;
  }[];
  readonly closingHours: readonly { readonly reason: string; readonly dateTimeFrom: string; readonly dateTimeTo: string }[];
}

/** Items of `idlePeriods` in a contract: the pauses in force (a cancelled one is gone). */
export interface IdlePeriodAnswer {
  readonly id: number;
  readonly startDate: string;
  /** null when unlimited. */
  readonly endDate: string | null;
  readonly unlimited: boolean;
  readonly reason: string;
  /** DAY, WEEK, MONTH */
  readonly temporalUnit: string;
  /** Length in `temporalUnit`s, as in the webhook's `idlePeriodAmount`; null when unlimited. */
  readonly idlePeriodAmount: number | null;
  readonly usedFreeTermsInDays: number | null;
  readonly fee: MoneyAnswer | null;
  readonly createdDate: string;
}

/** Items of `additionalModules` in a contract (a deleted one is gone; a cancelled one stays, `cancelled: true`). */
export interface AdditionalModuleAnswer {
  /** The module contract's id; the same value as `moduleContractId`. */
  readonly id: number;
  readonly moduleContractId: number;
  readonly rateName: string;
  /** ACTIVE, INACTIVE */
  readonly status: string;
  readonly startDate: string;
  readonly endDate: string;
  readonly cancelled: boolean;
  readonly cancellationDate: string | null;
  readonly price: MoneyAnswer;
}

/** Items of `GET /v1/customers/{customerId}/contracts` (a bare array; 404 deleted customer, 403 access disabled). */
export interface ContractAnswer {
  readonly id: number;
  readonly rateName: string;
  /** ACTIVE, INACTIVE */
  readonly contractStatus: string;
  readonly createdDate: string;
  readonly startDate: string;
  readonly endDate: string;
  readonly cancelled: boolean;
  /** The day it was cancelled (the contract runs on to `endDate`). */
  readonly cancellationDate: string | null;
  readonly term: { readonly periodValue: number; readonly periodUnit: string };
  readonly priceDetails: { readonly basePrice: MoneyAnswer; readonly currentPrice: MoneyAnswer };
  readonly idlePeriods: readonly IdlePeriodAnswer[];
  readonly additionalModules: readonly AdditionalModuleAnswer[];
}

/** The error body of every non-2xx answer. */
export interface ErrorAnswer {
  readonly errorMessage: string;
  /** UNAUTHORIZED (401), FORBIDDEN (403: the customer's access is disabled), NOT_FOUND, VALIDATION_ERROR, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE, INTERNAL_ERROR */
  readonly errorCode: string;
  readonly traceId: string;
}

/** The 23 sister types the world emits besides AUTOMATIC_CUSTOMER_CHECKOUT, with their `content` (absent: none sent). */
export interface SisterEventContent {
  readonly CUSTOMER_ACCESS_DISABLED: undefined;
  readonly CUSTOMER_ACCESS_MEDIUM_CREATED: undefined;
  readonly CUSTOMER_ACCESS_MEDIUM_UPDATED: undefined;
  readonly CUSTOMER_ACCESS_MEDIUM_DELETED: undefined;
  readonly CUSTOMER_ACCESS_RESTRICTION_CREATED: undefined;
  readonly CUSTOMER_ACCESS_RESTRICTION_DELETED: undefined;
  readonly CUSTOMER_CHECKIN_STUDIOS_UPDATED: { readonly contractId: number };
  readonly CUSTOMER_HOME_STUDIO_UPDATED: { readonly sourceStudioId: number; readonly targetStudioId: number };
  readonly CONTRACT_CANCELLED: { readonly contractId: number };
  readonly CONTRACT_IDLE_PERIOD_CREATED: IdlePeriodContent;
  readonly CONTRACT_IDLE_PERIOD_UPDATED: IdlePeriodContent;
  readonly CONTRACT_IDLE_PERIOD_CANCELLED: IdlePeriodContent;
  readonly CONTRACT_ADDITIONAL_MODULE_CREATED: ModuleContent;
  readonly CONTRACT_ADDITIONAL_MODULE_UPDATED: ModuleContent;
  readonly CONTRACT_ADDITIONAL_MODULE_DELETED: ModuleContent;
  readonly CONTRACT_ADDITIONAL_MODULE_CANCELLED: ModuleContent;
  readonly EMPLOYEE_CREATED: undefined;
  readonly EMPLOYEE_UPDATED: undefined;
  readonly EMPLOYEE_DELETED: undefined;
  readonly STUDIO_OPENING_HOURS_UPDATED: undefined;
  readonly ADDITIONAL_INFORMATION_FIELDS_UPDATED: undefined;
  readonly FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: undefined;
  readonly FINANCE_DEBT_COLLECTION_CASE_UPDATED: { readonly agencyDebtCollectionCaseId: number } | { readonly collectionCaseId: number };
}

export type SisterEventType = keyof SisterEventContent;

export interface IdlePeriodContent {
  readonly contractId: number;
  readonly idlePeriodId: number;
  /** Present unless the pause is unlimited. */
  readonly idlePeriodAmount?: number;
  /** Present when the pause uses free terms. */
  readonly usedFreeTermsInDays?: number;
}

export interface ModuleContent {
  /** The main contract. */
  readonly contractId: number;
  readonly moduleContractId: number;
}

/**
 * What `entityId` is for each of them: a customer, an employee, the studio whose key sent it, or a
 * case adjustment request. FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED's is not stated upstream;
 * the stand-in sends the studio id (the settings are the studio's).
 */
export const SISTER_ENTITY: { readonly [T in SisterEventType]: 'customer' | 'employee' | 'studio' | 'caseAdjustmentRequest' } = {
  CUSTOMER_ACCESS_DISABLED: 'customer',
  CUSTOMER_ACCESS_MEDIUM_CREATED: 'customer',
  CUSTOMER_ACCESS_MEDIUM_UPDATED: 'customer',
  CUSTOMER_ACCESS_MEDIUM_DELETED: 'customer',
  CUSTOMER_ACCESS_RESTRICTION_CREATED: 'customer',
  CUSTOMER_ACCESS_RESTRICTION_DELETED: 'customer',
  CUSTOMER_CHECKIN_STUDIOS_UPDATED: 'customer',
  CUSTOMER_HOME_STUDIO_UPDATED: 'customer',
  CONTRACT_CANCELLED: 'customer',
  CONTRACT_IDLE_PERIOD_CREATED: 'customer',
  CONTRACT_IDLE_PERIOD_UPDATED: 'customer',
  CONTRACT_IDLE_PERIOD_CANCELLED: 'customer',
  CONTRACT_ADDITIONAL_MODULE_CREATED: 'customer',
  CONTRACT_ADDITIONAL_MODULE_UPDATED: 'customer',
  CONTRACT_ADDITIONAL_MODULE_DELETED: 'customer',
  CONTRACT_ADDITIONAL_MODULE_CANCELLED: 'customer',
  EMPLOYEE_CREATED: 'employee',
  EMPLOYEE_UPDATED: 'employee',
  EMPLOYEE_DELETED: 'employee',
  STUDIO_OPENING_HOURS_UPDATED: 'studio',
  ADDITIONAL_INFORMATION_FIELDS_UPDATED: 'studio',
  FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: 'studio',
  FINANCE_DEBT_COLLECTION_CASE_UPDATED: 'caseAdjustmentRequest',
};

export const SISTER_EVENT_TYPES = Object.keys(SISTER_ENTITY) as SisterEventType[];
