import { ApiToken } from './domains/access/api-token.entity.js';
import { AggregatorMembership } from './domains/aggregators/aggregator-membership.entity.js';
import { AppointmentBooking } from './domains/appointments/appointment-booking.entity.js';
import { ClassBooking } from './domains/classes/class-booking.entity.js';
import { ClassSlot } from './domains/classes/class-slot.entity.js';
import { GymClass } from './domains/classes/class.entity.js';
import { Contract } from './domains/contracts/contract.entity.js';
import { ContractAdditionalModule } from './domains/contracts/contract-additional-module.entity.js';
import { ContractIdlePeriod } from './domains/contracts/contract-idle-period.entity.js';
import { CommunicationPreference } from './domains/customers/communication-preference.entity.js';
import { CustomerStudio } from './domains/customers/customer-studio.entity.js';
import { Customer } from './domains/customers/customer.entity.js';
import { Device } from './domains/devices/device.entity.js';
import { Employee } from './domains/employees/employee.entity.js';
import { EventRecord } from './domains/events/event-record.entity.js';
import { DebtCollectionRun } from './domains/finance/debt-collection-run.entity.js';
import { TaxAdvisorExport } from './domains/finance/tax-advisor-export.entity.js';
import { DebtCollectionCase } from './domains/finance/debt-collection-case.entity.js';
import { DebtCollectionConfiguration } from './domains/finance/debt-collection-configuration.entity.js';
import { Studio } from './domains/studios/studio.entity.js';
import { Tenant } from './domains/studios/tenant.entity.js';
import { AutomaticCheckoutRecord } from './domains/visits/automatic-checkout.entity.js';
import { VisitRollup } from './domains/visits/visit-rollup.entity.js';
import { Visit } from './domains/visits/visit.entity.js';
import { LogCursor } from './upstream/hydration/hydration-cursor.entity.js';
import { HydrationJob } from './upstream/hydration/hydration-job.entity.js';

/** Every TypeORM entity of the product. */
export const ENTITIES = [
  Tenant,
  Studio,
  EventRecord,
  Customer,
  CustomerStudio,
  Visit,
  AutomaticCheckoutRecord,
  VisitRollup,
  Contract,
  ClassSlot,
  ClassBooking,
  AppointmentBooking,
  AggregatorMembership,
  Device,
  DebtCollectionRun,
  TaxAdvisorExport,
  ApiToken,
  GymClass,
  CommunicationPreference,
  HydrationJob,
  LogCursor,
  DebtCollectionCase,
  DebtCollectionConfiguration,
  ContractIdlePeriod,
  ContractAdditionalModule,
  Employee,
];
