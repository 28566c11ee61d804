import { Args, ArgsType, createUnionType, Field, ID, ObjectType, registerEnumType, Resolver, Root, Subscription } from 'type-graphql';
import type { DataSource } from 'typeorm';
import { SqlReader } from '../../db/sql-reader.js';
import { AppointmentBooking } from '../../domains/appointments/appointment-booking.entity.js';
import { ClassBooking } from '../../domains/classes/class-booking.entity.js';
import { ClassSlot } from '../../domains/classes/class-slot.entity.js';
import { GymClass } from '../../domains/classes/class.entity.js';
import { Contract } from '../../domains/contracts/contract.entity.js';
import { Customer } from '../../domains/customers/customer.entity.js';
import { Device } from '../../domains/devices/device.entity.js';
import { Employee } from '../../domains/employees/employee.entity.js';
import { EventRecord } from '../../domains/events/event-record.entity.js';
import { DebtCollectionRun } from '../../domains/finance/debt-collection-run.entity.js';
import { TaxAdvisorExport } from '../../domains/finance/tax-advisor-export.entity.js';
import { Studio } from '../../domains/studios/studio.entity.js';
import type { GraphQLContext } from '../../api/context.js';
import { ErrorCode, clientError } from '../../api/errors.js';
import { unreachable } from '../../events/event-catalog.js';
import type { LoggedEvent } from '../../events/logged-event.js';
import { toEventRecord } from '../../realtime/log-reader.js';
import { eventSubscription, requireRealtime } from '../../realtime/realtime.js';
import { listArgument } from '../../api/subscription.args.js';
import { RECORD_HYDRATED_EVENT_TYPE } from './hydration-targets.js';
import { HYDRATED_RECORD_KINDS, type HydratedRecordKind } from '../../domains/record-writes.js';

export const HydratedRecordKindEnum = Object.fromEntries(HYDRATED_RECORD_KINDS.map((k) => [k, k])) as {
  readonly [K in HydratedRecordKind]: K;
};
registerEnumType(HydratedRecordKindEnum, {
  name: 'HydratedRecordKind',
  description: 'Which kind of record hydration changed (`content.record` of a GYMGRAPH_RECORD_HYDRATED event).',
  valuesConfig: {
    customer: { description: 'A customer: status, names, contact, address, ... (`record` is the Customer).' },
    communicationPreferences: {
      description: "A customer's communication preferences (`record` is the Customer; read `communicationPreferences`).",
    },
    contract: { description: 'A contract: rate, status, dates, price.' },
    classBooking: { description: 'A class booking: detailed status, customer, slot, class.' },
    classSlot: { description: 'A class slot: times, capacity, booked and waiting counts, instructors, location.' },
    class: { description: 'A class: title, type, duration, category.' },
    appointmentBooking: { description: 'An appointment booking: times, title, status, customer.' },
    device: { description: 'A device: name, model, active.' },
    debtCollectionRun: { description: 'A debt-collection run: status, date, type.' },
    taxAdvisorExport: { description: 'A tax-advisor export: period and formats.' },
    studio: {
      description:
        "A studio: its upstream id, opening hours and closures (`record` is the Studio; the event's entityId is the upstream studio id).",
    },
    employee: { description: 'An employee: names, role, contact, competences (or their personal data erased).' },
  },
});

export const HydratedRecord = createUnionType({
  name: 'HydratedRecord',
  description: 'A record hydration filled; ask for its fields with inline fragments (`... on Customer { firstName }`).',
  types: () =>
    [
      Customer,
      Contract,
      ClassBooking,
      ClassSlot,
      GymClass,
      AppointmentBooking,
      Device,
      DebtCollectionRun,
      TaxAdvisorExport,
      Studio,
      Employee,
    ] as const,
});

@ObjectType({ description: 'A record that hydration from the upstream Open API just changed, with the record as it stands now.' })
export class RecordHydration {
  @Field(() => EventRecord, { description: 'The GYMGRAPH_RECORD_HYDRATED event in the log (resume after its `seq`).' })
  event!: EventRecord;

  @Field(() => HydratedRecordKindEnum, { description: 'Which kind of record changed.' })
  kind!: HydratedRecordKind;

  @Field(() => [String], {
    description: 'The fields whose value changed, by their column names (e.g. `firstName`, `addressCity`, `bookingStatus`).',
  })
  changedFields!: string[];

  @Field({
    description:
      "True when the change erased a customer's or an employee's personal data (the upstream deleted them or no longer lets them be read).",
  })
  personalDataErased!: boolean;

  @Field(() => HydratedRecord, { nullable: true, description: 'The record as it stands now; null when this token may not see it.' })
  record!: typeof HydratedRecord | null;
}

@ArgsType()
export class RecordHydratedArgs {
  @Field(() => [HydratedRecordKindEnum], { nullable: true, description: 'Only these kinds of record (default: all).' })
  kinds?: HydratedRecordKind[] | null;

  @Field(() => [ID], { nullable: true, description: 'Only records hydrated through these studios.' })
  studioIds?: number[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Resume: first every matching GYMGRAPH_RECORD_HYDRATED stored after this event `seq` (or `events` cursor), then live, with no gap and no duplicate.',
  })
  after?: string | null;
}

type Loaded =
  | Customer
  | Contract
  | ClassBooking
  | ClassSlot
  | GymClass
  | AppointmentBooking
  | Device
  | DebtCollectionRun
  | TaxAdvisorExport
  | Studio
  | Employee
  | null;

function kindOf(event: LoggedEvent): HydratedRecordKind | undefined {
  const record = event.content?.['record'];
  return (HYDRATED_RECORD_KINDS as readonly unknown[]).includes(record) ? (record as HydratedRecordKind) : undefined;
}

/** The record a GYMGRAPH_RECORD_HYDRATED event is about, as it stands now, whoever asks. */
function load(kind: HydratedRecordKind, event: LoggedEvent, dataSource: DataSource): Promise<Loaded> {
  const tenantId = event.tenantId;
  const id = event.entityId;
  // Through SqlReader: off the main thread on SQLite, and under the read timeout.
  const reader = SqlReader.of(dataSource);
  switch (kind) {
    case 'customer':
    case 'communicationPreferences':
      return reader.findOne(Customer, { tenantId, customerId: id });
    case 'contract':
      return reader.findOne(Contract, { tenantId, contractId: id });
    case 'classBooking':
      return reader.findOne(ClassBooking, { tenantId, bookingId: id });
    case 'classSlot':
      return reader.findOne(ClassSlot, { tenantId, slotId: id });
    case 'class':
      return reader.findOne(GymClass, { tenantId, classId: id });
    case 'appointmentBooking':
      return reader.findOne(AppointmentBooking, { tenantId, bookingId: id });
    case 'device':
      return reader.findOne(Device, { tenantId, deviceId: id });
    case 'debtCollectionRun':
      return reader.findOne(DebtCollectionRun, { tenantId, runId: id });
    case 'taxAdvisorExport':
      return reader.findOne(TaxAdvisorExport, { tenantId, exportId: id });
    case 'studio':
      // The studio whose key read it (the event's studio); entityId is its upstream id.
      return reader.findOne(Studio, { id: event.studioId });
    case 'employee':
      return reader.findOne(Employee, { tenantId, employeeId: id });
    default:
      return unreachable(kind);
  }
}

/** Whether a member receives the hydration of `record`: theirs (it names them as its customer), or a class or slot of the schedule. */
function memberSees(record: Loaded, context: GraphQLContext): boolean {
  if (record === null) return false;
  if (record instanceof ClassSlot || record instanceof GymClass || record instanceof Studio) return true;
  return 'customerId' in record && record.customerId != null && context.scope.ownsCustomer(Number(record.customerId));
}

/**
 * `recordHydrated`: the typed view of GYMGRAPH_RECORD_HYDRATED. The event stream is the `events`
 * subscription's (same order, same `after`), so a client may use either and switch between them.
 * One field with a union for the record, rather than one field per record kind: a client that
 * mirrors records wants one ordered stream for all of them, and new kinds then only extend the union.
 */
@Resolver()
export class RecordHydratedSubscriptionResolver {
  @Subscription(() => RecordHydration, {
    description:
      'Each time hydration from the upstream Open API changes a record of a studio this token may see: which record, which fields, and the record as it stands now. ' +
      'In commit order, each once, from the event log (GYMGRAPH_RECORD_HYDRATED events), so `after` resumes without gap.',
    subscribe: ({ args, context }) => {
      const { kinds, studioIds, after } = args as RecordHydratedArgs;
      const ctx = context as GraphQLContext;
      const { shared } = requireRealtime(ctx).services;
      const wanted = listArgument(kinds, 'kinds');
      if (wanted?.some((k) => !(HYDRATED_RECORD_KINDS as readonly string[]).includes(k)))
        throw clientError(ErrorCode.BAD_USER_INPUT, 'kinds: unknown kind');
      return eventSubscription(
        ctx,
        {
          types: [RECORD_HYDRATED_EVENT_TYPE],
          studioIds: listArgument(studioIds, 'studioIds'),
          ...(wanted ? { content: (content: LoggedEvent['content']) => wanted.includes(content?.['record'] as HydratedRecordKind) } : {}),
        },
        after,
        async (event): Promise<RecordHydration | undefined> => {
          const kind = kindOf(event);
          if (!kind) return undefined;
          const record = await shared.get(`hydrated:${event.seq}`, () => load(kind, event, ctx.dataSource));
          // A member: their own records (a booking becomes theirs here, as its customer is hydrated) and the public schedule.
          if (ctx.scope.member && !memberSees(record, ctx)) return undefined;
          // The event's studio is within the scope: it delivered an event about a customer (who is then
          // visible to it) or read a class for it; any other record belongs to the studio of its earliest event.
          const visible =
            record === null
              ? null
              : record instanceof Customer || record instanceof GymClass
                ? record
                : record instanceof Studio
                  ? ctx.scope.allows(record.id)
                    ? record
                    : null
                  : ctx.scope.allows(record.studioId)
                    ? record
                    : null;
          const changed = event.content?.['changed'];
          return {
            event: toEventRecord(event),
            kind,
            changedFields: Array.isArray(changed) ? changed.filter((c): c is string => typeof c === 'string') : [],
            personalDataErased: event.content?.['erased'] === true,
            record: visible,
          };
        },
      );
    },
  })
  recordHydrated(@Root() payload: RecordHydration, @Args(() => RecordHydratedArgs) _args: RecordHydratedArgs): RecordHydration {
    return payload;
  }
}
