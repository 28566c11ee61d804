import { BookingProjector } from '../db/booking-projector.js';
import { CreatedRecordProjector } from '../db/created-record-projector.js';
import type { SqlTx } from '../db/sql-writer.js';
import { AggregatorMembershipProjector } from '../domains/aggregators/aggregator-membership.projector.js';
import { ClassSlotProjector } from '../domains/classes/class-slot.projector.js';
import { ContractProjector } from '../domains/contracts/contract.projector.js';
import { CustomerProjector } from '../domains/customers/customer.projector.js';
import { VisitProjector, type VisitWindows } from '../domains/visits/visit.projector.js';
import { unreachable, type KnownEvent } from './event-types.js';

/**
 * Applies a batch of newly logged events to the records, inside the batch's transaction.
 * Each projector merges its batch in memory and writes once, so the statement count per batch does
 * not grow with the number of events for the same record. `ahead`: the reads {@link readAhead}
 * queued, valid only if nothing was deleted from the log since.
 */
export async function project(events: readonly KnownEvent[], tx: SqlTx, ahead?: ProjectionReads): Promise<void> {
  const customers = new CustomerProjector();
  const visits = new VisitProjector();
  const contracts = new ContractProjector();
  const classSlots = new ClassSlotProjector();
  const classBookings = new BookingProjector('class_bookings');
  const appointmentBookings = new BookingProjector('appointment_bookings');
  const memberships = new AggregatorMembershipProjector();
  const devices = new CreatedRecordProjector('devices', 'deviceId');
  const debtRuns = new CreatedRecordProjector('debt_collection_runs', 'runId');
  const taxExports = new CreatedRecordProjector('tax_advisor_exports', 'exportId');

  for (const event of events) {
    switch (event.type) {
      case 'CUSTOMER_CREATED':
        customers.created(event);
        break;
      case 'CUSTOMER_UPDATED':
        customers.updated(event);
        break;
      case 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED':
        customers.preferencesUpdated(event);
        break;
      case 'CUSTOMER_DELETED':
        customers.deleted(event);
        break;
      case 'CUSTOMER_CHECKIN':
        customers.checkedIn(event);
        visits.apply(event);
        break;
      case 'CUSTOMER_CHECKOUT':
        customers.checkedOut(event);
        visits.apply(event);
        break;
      case 'AUTOMATIC_CUSTOMER_CHECKOUT':
        // entityId is the studio: each listed customer is checked out at their own time.
        for (const checkout of event.content.checkouts) {
          customers.checkedOut({ ...event, entityId: checkout.customerId, occurredAt: checkout.checkoutAt });
        }
        visits.applyAutomatic(event);
        break;
      case 'CONTRACT_CREATED':
      case 'CONTRACT_UPDATED':
        customers.touch(event, event.entityId);
        contracts.apply(event);
        break;
      case 'AGGREGATOR_MEMBER_CREATED':
        customers.touch(event, event.entityId);
        memberships.apply(event);
        break;
      case 'CLASS_BOOKING_CREATED':
        classBookings.apply(event, 'created');
        break;
      case 'CLASS_BOOKING_UPDATED':
        classBookings.apply(event, 'updated');
        break;
      case 'CLASS_BOOKING_CANCELLED':
        classBookings.apply(event, 'cancelled');
        break;
      case 'APPOINTMENT_BOOKING_CREATED':
        appointmentBookings.apply(event, 'created');
        break;
      case 'APPOINTMENT_BOOKING_UPDATED':
        appointmentBookings.apply(event, 'updated');
        break;
      case 'APPOINTMENT_BOOKING_CANCELLED':
        appointmentBookings.apply(event, 'cancelled');
        break;
      case 'CLASS_SLOT_UPDATED':
      case 'CLASS_SLOT_CANCELLED':
        classSlots.apply(event);
        break;
      case 'DEVICE_CREATED':
        devices.apply(event);
        break;
      case 'FINANCE_DEBT_COLLECTION_RUN_CREATED':
        debtRuns.apply(event);
        break;
      case 'TAX_ADVISOR_EXPORT_CREATED':
        taxExports.apply(event);
        break;
      default:
        unreachable(event);
    }
  }

  // Visits first: they read the event log, the others only queue writes (see SqlTx.insertLater).
  await visits.write(tx, ahead?.visits);
  for (const projector of [customers, contracts, classSlots, classBookings, appointmentBookings, memberships, devices, debtRuns, taxExports]) {
    projector.write(tx);
  }
}

/** The reads of {@link project} made ahead. */
export interface ProjectionReads {
  readonly visits: VisitWindows;
}

/** An event of the batch that may turn out new. */
export interface CandidateEvent {
  readonly tenantId: number;
  readonly entityId: number;
  readonly type: string;
  readonly occurredAt: number;
}

/**
 * Queues (SqlTx.allLater) the reads {@link project} needs, for events that may be new: on
 * PostgreSQL they travel in one message with the batch's INSERT, which they follow, instead of a
 * round trip of their own after it. Only the visits read the log.
 */
export function readAhead(tx: SqlTx, candidates: readonly CandidateEvent[]): ProjectionReads {
  return {
    visits: VisitProjector.readAhead(tx, candidates
      .filter((event) => event.type === 'CUSTOMER_CHECKIN' || event.type === 'CUSTOMER_CHECKOUT')
      .map((event) => ({ tenantId: event.tenantId, customerId: event.entityId, occurredAt: event.occurredAt }))),
  };
}
