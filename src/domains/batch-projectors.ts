import { BookingProjector } from './bookings/booking.projector.js';
import { CreatedRecordProjector } from './created-record.projector.js';
import type { SqlTx } from '../db/sql-writer.js';
import { TABLES } from '../db/tables.js';
import { AggregatorMembershipProjector } from './aggregators/aggregator-membership.projector.js';
import { ClassSlotProjector } from './classes/class-slot.projector.js';
import { ContractProjector } from './contracts/contract.projector.js';
import { AdditionalModuleProjector, IdlePeriodProjector } from './contracts/contract-parts.projector.js';
import { CustomerProjector } from './customers/customer.projector.js';
import { EmployeeProjector } from './employees/employee.projector.js';
import { VisitProjector, type VisitWindows } from './visits/visit.projector.js';
import { StudioChangeProjector } from './studios/studio-change.projector.js';
import { DebtCollectionCaseProjector, DebtCollectionConfigurationProjector } from './finance/debt-collection.projectors.js';

/**
 * The record writers of one ingest batch, one per record table. The areas' projection handlers
 * (see areas.ts) feed them event by event; each merges its batch in memory and writes once, so the
 * statement count per batch does not grow with the number of events for the same record.
 */
export class BatchProjectors {
  readonly customers = new CustomerProjector();
  readonly visits = new VisitProjector();
  readonly contracts = new ContractProjector();
  readonly classSlots = new ClassSlotProjector();
  readonly classBookings = new BookingProjector(TABLES.class_bookings);
  readonly appointmentBookings = new BookingProjector(TABLES.appointment_bookings);
  readonly memberships = new AggregatorMembershipProjector();
  readonly devices = new CreatedRecordProjector(TABLES.devices, 'deviceId');
  readonly debtRuns = new CreatedRecordProjector(TABLES.debt_collection_runs, 'runId');
  readonly taxExports = new CreatedRecordProjector(TABLES.tax_advisor_exports, 'exportId');
  readonly idlePeriods = new IdlePeriodProjector();
  readonly additionalModules = new AdditionalModuleProjector();
  readonly studioChanges = new StudioChangeProjector();
  readonly debtCollectionCases = new DebtCollectionCaseProjector();
  readonly debtCollectionConfigurations = new DebtCollectionConfigurationProjector();
  readonly employees = new EmployeeProjector();

  /**
   * Writes everything gathered, inside the batch's transaction. Visits first: they read the event
   * log, the others only queue writes (see SqlTx.insertLater). `visitWindows`: the reads queued
   * ahead ({@link VisitProjector.readAhead}), valid only if nothing was deleted from the log since.
   */
  async write(tx: SqlTx, visitWindows?: VisitWindows): Promise<void> {
    await this.visits.write(tx, visitWindows);
    for (const projector of [
      this.customers,
      this.contracts,
      this.classSlots,
      this.classBookings,
      this.appointmentBookings,
      this.memberships,
      this.devices,
      this.debtRuns,
      this.taxExports,
      this.idlePeriods,
      this.additionalModules,
    ]) {
      projector.write(tx);
    }
    for (const projector of [this.studioChanges, this.debtCollectionCases, this.debtCollectionConfigurations]) projector.write(tx);
    this.employees.write(tx);
  }
}
