import { Args, Field, ObjectType, Resolver, Root, Subscription, type ClassType } from 'type-graphql';
import type { DataSource } from 'typeorm';
import { SqlReader } from '../db/sql-reader.js';
import { AggregatorMembership } from '../domains/aggregators/aggregator-membership.entity.js';
import { AppointmentBooking } from '../domains/appointments/appointment-booking.entity.js';
import { ClassBooking } from '../domains/classes/class-booking.entity.js';
import { ClassSlot } from '../domains/classes/class-slot.entity.js';
import { Contract } from '../domains/contracts/contract.entity.js';
import { ContractAdditionalModule } from '../domains/contracts/contract-additional-module.entity.js';
import { ContractIdlePeriod } from '../domains/contracts/contract-idle-period.entity.js';
import { Customer } from '../domains/customers/customer.entity.js';
import { Device } from '../domains/devices/device.entity.js';
import { Employee } from '../domains/employees/employee.entity.js';
import { EventRecord } from '../domains/events/event-record.entity.js';
import { DebtCollectionRun } from '../domains/finance/debt-collection-run.entity.js';
import { TaxAdvisorExport } from '../domains/finance/tax-advisor-export.entity.js';
import { Visit } from '../domains/visits/visit.entity.js';
import { Studio } from '../domains/studios/studio.entity.js';
import { DebtCollectionCase } from '../domains/finance/debt-collection-case.entity.js';
import { DebtCollectionConfiguration } from '../domains/finance/debt-collection-configuration.entity.js';
import { caseKeyOf } from '../domains/finance/debt-collection.projectors.js';
import type { GraphQLContext } from '../api/context.js';
import { ErrorCode, clientError, memberForbidden } from '../api/errors.js';
import type { Scope } from '../api/scope.js';
import type { StreamSelector } from '../api/stream-selector.js';
import { KNOWN_EVENT_TYPES, declarationOf, mapEventTypes, type KnownEventType } from '../events/event-catalog.js';
import type { SubscriptionDeclaration } from '../events/event-declaration.js';
import type { LoggedEvent } from '../events/logged-event.js';
import { MAX_AUTOMATIC_CHECKOUTS } from '../events/content.js';
import { toEventRecord } from './log-reader.js';
import { eventSubscription, requireRealtime } from './realtime.js';
import {
  BookingSubscriptionArgs,
  ClassSlotSubscriptionArgs,
  ContractSubscriptionArgs,
  CustomerSubscriptionArgs,
  RecordSubscriptionArgs,
  idsArgument,
  listArgument,
} from '../api/subscription.args.js';

// ---------------------------------------------------------------------------------------------
// Payloads: the event, with the records it is about as they stand after it (null where this token
// may not see them). Records are loaded once per event for every subscriber of this instance, when
// the event is first delivered: they include this event's change, and possibly later ones.
// ---------------------------------------------------------------------------------------------

const EVENT = { description: 'The event, as stored in the log.' };
const CUSTOMER = { nullable: true, description: 'The customer, as the record stands after the event.' };
const after = (what: string) => ({
  nullable: true,
  description: `${what}, as the record stands after the event; null when this token may not see it (it belongs to the studio of its earliest event).`,
});

@ObjectType({ description: 'A check-in or check-out, with the visit it opened or closed and the customer.' })
export class VisitEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => Visit, after('The visit the event opened or closed')) visit!: Visit | null;
  @Field(() => Customer, CUSTOMER) customer!: Customer | null;
}

@ObjectType({ description: 'A studio checked customers out itself (AUTOMATIC_CUSTOMER_CHECKOUT), with the visits it closed.' })
export class AutomaticCheckoutEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => [Visit], {
    description:
      'The visits this event closed, as they stand after it (those this token may see). A customer who was not checked in, or whose real check-out came first, has none.',
  })
  visits!: Visit[];
}

@ObjectType({ description: 'A change to a customer, with the customer.' })
export class CustomerEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => Customer, CUSTOMER) customer!: Customer | null;
}

@ObjectType({ description: 'A contract created or changed, with the contract and the customer holding it.' })
export class ContractEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => Contract, after('The contract')) contract!: Contract | null;
  @Field(() => Customer, CUSTOMER) customer!: Customer | null;
}

@ObjectType({
  description:
    "A contract's pause (idle period) created, changed or cancelled, with the idle period, the contract and the customer holding it.",
})
export class ContractIdlePeriodEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => ContractIdlePeriod, after('The idle period')) idlePeriod!: ContractIdlePeriod | null;
  @Field(() => Contract, after('The paused contract')) contract!: Contract | null;
  @Field(() => Customer, CUSTOMER) customer!: Customer | null;
}

@ObjectType({
  description:
    "A contract's additional module created, changed, cancelled or deleted, with the module, the main contract and the customer holding it.",
})
export class ContractAdditionalModuleEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => ContractAdditionalModule, after('The additional module')) additionalModule!: ContractAdditionalModule | null;
  @Field(() => Contract, after('The main contract')) contract!: Contract | null;
  @Field(() => Customer, CUSTOMER) customer!: Customer | null;
}

@ObjectType({ description: 'A customer joined through an aggregator, with the membership and the customer.' })
export class AggregatorMembershipEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => AggregatorMembership, after('The aggregator membership')) aggregatorMembership!: AggregatorMembership | null;
  @Field(() => Customer, CUSTOMER) customer!: Customer | null;
}

@ObjectType({ description: 'A class booking made, changed or cancelled, with the booking.' })
export class ClassBookingEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => ClassBooking, after('The class booking')) classBooking!: ClassBooking | null;
}

@ObjectType({ description: 'An appointment booking made, changed or cancelled, with the booking.' })
export class AppointmentBookingEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => AppointmentBooking, after('The appointment booking')) appointmentBooking!: AppointmentBooking | null;
}

@ObjectType({ description: 'A class slot changed or cancelled, with the slot.' })
export class ClassSlotEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => ClassSlot, after('The class slot')) classSlot!: ClassSlot | null;
}

@ObjectType({ description: 'A device registered, with the device.' })
export class DeviceEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => Device, after('The device')) device!: Device | null;
}

@ObjectType({ description: 'A debt-collection run created, with the run.' })
export class DebtCollectionRunEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => DebtCollectionRun, after('The debt-collection run')) debtCollectionRun!: DebtCollectionRun | null;
}

@ObjectType({ description: 'A tax-advisor export created, with the export.' })
export class TaxAdvisorExportEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => TaxAdvisorExport, after('The tax-advisor export')) taxAdvisorExport!: TaxAdvisorExport | null;
}

@ObjectType({ description: "A change to a studio's own settings (opening hours, custom customer fields), with the studio." })
export class StudioEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => Studio, {
    nullable: true,
    description:
      'The studio that delivered the event (its webhook key), as it stands after the event; null when this token may not see it.',
  })
  studio!: Studio | null;
}

@ObjectType({ description: 'A debt-collection case changed, with the case.' })
export class DebtCollectionCaseEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => DebtCollectionCase, after('The debt-collection case')) debtCollectionCase!: DebtCollectionCase | null;
}

@ObjectType({ description: "A studio's debt-collection settings changed, with what is known of them." })
export class DebtCollectionConfigurationEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => DebtCollectionConfiguration, {
    nullable: true,
    description: "The studio's debt-collection configuration record, as it stands after the event; null when this token may not see it.",
  })
  debtCollectionConfiguration!: DebtCollectionConfiguration | null;
}

@ObjectType({ description: 'An employee created, changed or deleted, with the employee.' })
export class EmployeeEventPayload {
  @Field(() => EventRecord, EVENT) event!: EventRecord;
  @Field(() => Employee, after('The employee')) employee!: Employee | null;
}

// ---------------------------------------------------------------------------------------------
// Families: how the events of a kind of record are filtered, loaded and scoped.
// ---------------------------------------------------------------------------------------------

interface RecordFamily<A extends RecordSubscriptionArgs, R extends object> {
  readonly payload: ClassType<{ event: EventRecord } & R>;
  readonly args: ClassType<A>;
  /** Conditions from the arguments besides `studioIds` and `after`, checked. */
  readonly select: (args: A) => Omit<StreamSelector, 'scope' | 'types' | 'studioIds'>;
  /** The records the event is about, as they stand now, whoever asks. */
  readonly load: (event: LoggedEvent, dataSource: DataSource) => Promise<R>;
  /** What of `records` a viewer with `scope` may see (the event itself is within the scope). */
  readonly visible: (records: R, scope: Scope, event: LoggedEvent) => R;
  /**
   * Whose events a member receives: `entity`, the event's `entityId` is a customer id (only theirs
   * is listened to); a function, the customer id of the loaded record (events of records that are
   * not theirs, or not known yet, are skipped); `public`, everyone's (class slots); `forbidden`, none
   * (member-access.ts refuses the field before it gets here).
   */
  readonly member: 'entity' | 'public' | 'forbidden' | ((records: R) => number | null | undefined);
}

const family = <A extends RecordSubscriptionArgs, R extends object>(spec: RecordFamily<A, R>) => spec;

/** A record belongs to the studio of its earliest event (the API's rule everywhere). */
const ownedBy = <T extends { studioId: number }>(record: T | null, scope: Scope) =>
  record && scope.allows(record.studioId) ? record : null;
/**
 * A customer is visible to every studio that delivered an event about them; the event's studio is
 * within the scope and just did. (Where and when they last checked in is hidden by Customer's
 * own field resolvers, per viewer.)
 */
const customerOf = (customer: Customer | null, scope: Scope, event: LoggedEvent) =>
  customer && scope.allows(event.studioId) ? customer : null;

// Through SqlReader: off the main thread on SQLite, and under the read timeout. A family's reads
// run side by side: a subscriber waits for the slower one, not for their sum.
const customer = (event: LoggedEvent, dataSource: DataSource) =>
  SqlReader.of(dataSource).findOne(Customer, { tenantId: event.tenantId, customerId: event.entityId });
const byEntity =
  <T extends object>(entity: ClassType<T>, column: string) =>
  (event: LoggedEvent, dataSource: DataSource) =>
    SqlReader.of(dataSource).findOne<T>(entity, { tenantId: event.tenantId, [column]: event.entityId } as never);
/** An id in `content` (the validator accepted an integer or a digit string). */
const contentId = (event: LoggedEvent, field: string) => Number(event.content?.[field]);
const inIds = (ids: readonly number[] | null, field: string) =>
  ids === null ? undefined : (content: LoggedEvent['content']) => ids.includes(Number(content?.[field]));

const customerArgs = (args: CustomerSubscriptionArgs) => ({ entityIds: idsArgument(args.customerIds, 'customerIds') });

const FAMILIES = {
  visit: family({
    payload: VisitEventPayload,
    args: CustomerSubscriptionArgs,
    select: customerArgs,
    load: async (event, dataSource) => {
      // A visit's id is its check-in's seq; a check-out is found by the seq it closed the visit with.
      const [visit, found] = await Promise.all([
        SqlReader.of(dataSource).entity(
          dataSource
            .getRepository(Visit)
            .createQueryBuilder('visit')
            .where('visit.tenantId = :tenantId AND (visit.id = :seq OR visit.checkoutSeq = :seq)', {
              tenantId: event.tenantId,
              seq: event.seq,
            })
            .limit(1),
        ),
        customer(event, dataSource),
      ]);
      return { visit, customer: found };
    },
    visible: ({ visit, customer }, scope, event) => ({ visit: ownedBy(visit, scope), customer: customerOf(customer, scope, event) }),
    member: 'entity',
  }),
  automaticCheckout: family({
    payload: AutomaticCheckoutEventPayload,
    args: RecordSubscriptionArgs,
    select: () => ({}),
    // A visit closed by it carries the event's seq as its check-out.
    load: async (event, dataSource) => ({
      visits: await SqlReader.of(dataSource).entities(
        dataSource
          .getRepository(Visit)
          .createQueryBuilder('visit')
          .where('visit.tenantId = :tenantId AND visit.checkoutSeq = :seq', { tenantId: event.tenantId, seq: event.seq })
          .orderBy('visit.id')
          .limit(MAX_AUTOMATIC_CHECKOUTS),
      ),
    }),
    visible: ({ visits }, scope) => ({ visits: visits.filter((visit) => scope.allows(visit.studioId)) }),
    // It lists every customer the studio checked out (member-access.ts refuses it to members).
    member: 'forbidden',
  }),
  customer: family({
    payload: CustomerEventPayload,
    args: CustomerSubscriptionArgs,
    select: customerArgs,
    load: async (event, dataSource) => ({ customer: await customer(event, dataSource) }),
    visible: ({ customer }, scope, event) => ({ customer: customerOf(customer, scope, event) }),
    member: 'entity',
  }),
  contract: family({
    payload: ContractEventPayload,
    args: ContractSubscriptionArgs,
    select: (args) => ({ ...customerArgs(args), content: inIds(idsArgument(args.contractIds, 'contractIds'), 'contractId') }),
    load: async (event, dataSource) => {
      const [contract, found] = await Promise.all([
        SqlReader.of(dataSource).findOne(Contract, { tenantId: event.tenantId, contractId: contentId(event, 'contractId') }),
        customer(event, dataSource),
      ]);
      return { contract, customer: found };
    },
    visible: ({ contract, customer }, scope, event) => ({
      contract: ownedBy(contract, scope),
      customer: customerOf(customer, scope, event),
    }),
    member: 'entity',
  }),
  contractIdlePeriod: family({
    payload: ContractIdlePeriodEventPayload,
    args: ContractSubscriptionArgs,
    select: (args) => ({ ...customerArgs(args), content: inIds(idsArgument(args.contractIds, 'contractIds'), 'contractId') }),
    load: async (event, dataSource) => {
      const reader = SqlReader.of(dataSource);
      const [idlePeriod, contract, found] = await Promise.all([
        reader.findOne(ContractIdlePeriod, { tenantId: event.tenantId, idlePeriodId: contentId(event, 'idlePeriodId') }),
        reader.findOne(Contract, { tenantId: event.tenantId, contractId: contentId(event, 'contractId') }),
        customer(event, dataSource),
      ]);
      return { idlePeriod, contract, customer: found };
    },
    visible: ({ idlePeriod, contract, customer }, scope, event) => ({
      idlePeriod: ownedBy(idlePeriod, scope),
      contract: ownedBy(contract, scope),
      customer: customerOf(customer, scope, event),
    }),
    member: 'entity',
  }),
  contractAdditionalModule: family({
    payload: ContractAdditionalModuleEventPayload,
    args: ContractSubscriptionArgs,
    select: (args) => ({ ...customerArgs(args), content: inIds(idsArgument(args.contractIds, 'contractIds'), 'contractId') }),
    load: async (event, dataSource) => {
      const reader = SqlReader.of(dataSource);
      const [additionalModule, contract, found] = await Promise.all([
        reader.findOne(ContractAdditionalModule, { tenantId: event.tenantId, moduleContractId: contentId(event, 'moduleContractId') }),
        reader.findOne(Contract, { tenantId: event.tenantId, contractId: contentId(event, 'contractId') }),
        customer(event, dataSource),
      ]);
      return { additionalModule, contract, customer: found };
    },
    visible: ({ additionalModule, contract, customer }, scope, event) => ({
      additionalModule: ownedBy(additionalModule, scope),
      contract: ownedBy(contract, scope),
      customer: customerOf(customer, scope, event),
    }),
    member: 'entity',
  }),
  aggregatorMembership: family({
    payload: AggregatorMembershipEventPayload,
    args: CustomerSubscriptionArgs,
    select: customerArgs,
    load: async (event, dataSource) => {
      const [aggregatorMembership, found] = await Promise.all([
        SqlReader.of(dataSource).findOne(AggregatorMembership, {
          tenantId: event.tenantId,
          customerId: event.entityId,
          aggregatorId: String(event.content?.['aggregatorId']),
        }),
        customer(event, dataSource),
      ]);
      return { aggregatorMembership, customer: found };
    },
    visible: ({ aggregatorMembership, customer }, scope, event) => ({
      aggregatorMembership: ownedBy(aggregatorMembership, scope),
      customer: customerOf(customer, scope, event),
    }),
    member: 'entity',
  }),
  classBooking: family({
    payload: ClassBookingEventPayload,
    args: BookingSubscriptionArgs,
    select: (args) => ({ entityIds: idsArgument(args.bookingIds, 'bookingIds') }),
    load: async (event, dataSource) => ({ classBooking: await byEntity(ClassBooking, 'bookingId')(event, dataSource) }),
    visible: ({ classBooking }, scope) => ({ classBooking: ownedBy(classBooking, scope) }),
    member: ({ classBooking }) => classBooking?.customerId,
  }),
  appointmentBooking: family({
    payload: AppointmentBookingEventPayload,
    args: BookingSubscriptionArgs,
    select: (args) => ({ entityIds: idsArgument(args.bookingIds, 'bookingIds') }),
    load: async (event, dataSource) => ({ appointmentBooking: await byEntity(AppointmentBooking, 'bookingId')(event, dataSource) }),
    visible: ({ appointmentBooking }, scope) => ({ appointmentBooking: ownedBy(appointmentBooking, scope) }),
    member: ({ appointmentBooking }) => appointmentBooking?.customerId,
  }),
  classSlot: family({
    payload: ClassSlotEventPayload,
    args: ClassSlotSubscriptionArgs,
    select: (args) => ({
      entityIds: idsArgument(args.slotIds, 'slotIds'),
      content: inIds(idsArgument(args.classIds, 'classIds'), 'classId'),
    }),
    load: async (event, dataSource) => ({ classSlot: await byEntity(ClassSlot, 'slotId')(event, dataSource) }),
    visible: ({ classSlot }, scope) => ({ classSlot: ownedBy(classSlot, scope) }),
    member: 'public',
  }),
  device: family({
    payload: DeviceEventPayload,
    args: RecordSubscriptionArgs,
    select: () => ({}),
    load: async (event, dataSource) => ({ device: await byEntity(Device, 'deviceId')(event, dataSource) }),
    visible: ({ device }, scope) => ({ device: ownedBy(device, scope) }),
    member: 'forbidden',
  }),
  debtCollectionRun: family({
    payload: DebtCollectionRunEventPayload,
    args: RecordSubscriptionArgs,
    select: () => ({}),
    load: async (event, dataSource) => ({ debtCollectionRun: await byEntity(DebtCollectionRun, 'runId')(event, dataSource) }),
    visible: ({ debtCollectionRun }, scope) => ({ debtCollectionRun: ownedBy(debtCollectionRun, scope) }),
    member: 'forbidden',
  }),
  taxAdvisorExport: family({
    payload: TaxAdvisorExportEventPayload,
    args: RecordSubscriptionArgs,
    select: () => ({}),
    load: async (event, dataSource) => ({ taxAdvisorExport: await byEntity(TaxAdvisorExport, 'exportId')(event, dataSource) }),
    visible: ({ taxAdvisorExport }, scope) => ({ taxAdvisorExport: ownedBy(taxAdvisorExport, scope) }),
    member: 'forbidden',
  }),
  studio: family({
    payload: StudioEventPayload,
    args: RecordSubscriptionArgs,
    select: () => ({}),
    // The studio whose webhook key delivered it (entityId is its upstream id).
    load: async (event, dataSource) => ({ studio: await SqlReader.of(dataSource).findOne(Studio, { id: event.studioId }) }),
    visible: ({ studio }, scope) => ({ studio: studio && scope.allows(studio.id) ? studio : null }),
    // Studio information (name, opening hours) is what a studio shows the public: a member's token
    // hears the changes of its own studios (the scope), like the class schedule.
    member: 'public',
  }),
  debtCollectionCase: family({
    payload: DebtCollectionCaseEventPayload,
    args: RecordSubscriptionArgs,
    select: () => ({}),
    load: async (event, dataSource) => {
      const key = caseKeyOf({
        agencyDebtCollectionCaseId:
          event.content?.['agencyDebtCollectionCaseId'] == null ? null : contentId(event, 'agencyDebtCollectionCaseId'),
        collectionCaseId: event.content?.['collectionCaseId'] == null ? null : contentId(event, 'collectionCaseId'),
      });
      return { debtCollectionCase: await SqlReader.of(dataSource).findOne(DebtCollectionCase, { tenantId: event.tenantId, ...key }) };
    },
    visible: ({ debtCollectionCase }, scope) => ({ debtCollectionCase: ownedBy(debtCollectionCase, scope) }),
    member: 'forbidden',
  }),
  debtCollectionConfiguration: family({
    payload: DebtCollectionConfigurationEventPayload,
    args: RecordSubscriptionArgs,
    select: () => ({}),
    load: async (event, dataSource) => ({
      debtCollectionConfiguration: await SqlReader.of(dataSource).findOne(DebtCollectionConfiguration, { studioId: event.studioId }),
    }),
    visible: ({ debtCollectionConfiguration }, scope) => ({ debtCollectionConfiguration: ownedBy(debtCollectionConfiguration, scope) }),
    member: 'forbidden',
  }),
  employee: family({
    payload: EmployeeEventPayload,
    args: RecordSubscriptionArgs,
    select: () => ({}),
    load: async (event, dataSource) => ({ employee: await byEntity(Employee, 'employeeId')(event, dataSource) }),
    visible: ({ employee }, scope) => ({ employee: ownedBy(employee, scope) }),
    // Staff records are the operator's (member-access.ts refuses the fields to members).
    member: 'forbidden',
  }),
};

// ---------------------------------------------------------------------------------------------
// One subscription field per upstream event type.
// ---------------------------------------------------------------------------------------------

/** Which payload family (above) each event type's subscription field carries: a type missing here fails to compile. */
const EVENT_FAMILIES = {
  CUSTOMER_CHECKIN: 'visit',
  CUSTOMER_CHECKOUT: 'visit',
  AUTOMATIC_CUSTOMER_CHECKOUT: 'automaticCheckout',
  CUSTOMER_CREATED: 'customer',
  CUSTOMER_UPDATED: 'customer',
  CUSTOMER_DELETED: 'customer',
  CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: 'customer',
  CUSTOMER_ACCESS_DISABLED: 'customer',
  CUSTOMER_HOME_STUDIO_UPDATED: 'customer',
  CUSTOMER_CHECKIN_STUDIOS_UPDATED: 'customer',
  CUSTOMER_ACCESS_MEDIUM_CREATED: 'customer',
  CUSTOMER_ACCESS_MEDIUM_UPDATED: 'customer',
  CUSTOMER_ACCESS_MEDIUM_DELETED: 'customer',
  CUSTOMER_ACCESS_RESTRICTION_CREATED: 'customer',
  CUSTOMER_ACCESS_RESTRICTION_DELETED: 'customer',
  CONTRACT_CREATED: 'contract',
  CONTRACT_UPDATED: 'contract',
  CONTRACT_CANCELLED: 'contract',
  CONTRACT_IDLE_PERIOD_CREATED: 'contractIdlePeriod',
  CONTRACT_IDLE_PERIOD_UPDATED: 'contractIdlePeriod',
  CONTRACT_IDLE_PERIOD_CANCELLED: 'contractIdlePeriod',
  CONTRACT_ADDITIONAL_MODULE_CREATED: 'contractAdditionalModule',
  CONTRACT_ADDITIONAL_MODULE_UPDATED: 'contractAdditionalModule',
  CONTRACT_ADDITIONAL_MODULE_DELETED: 'contractAdditionalModule',
  CONTRACT_ADDITIONAL_MODULE_CANCELLED: 'contractAdditionalModule',
  AGGREGATOR_MEMBER_CREATED: 'aggregatorMembership',
  CLASS_BOOKING_CREATED: 'classBooking',
  CLASS_BOOKING_UPDATED: 'classBooking',
  CLASS_BOOKING_CANCELLED: 'classBooking',
  APPOINTMENT_BOOKING_CREATED: 'appointmentBooking',
  APPOINTMENT_BOOKING_UPDATED: 'appointmentBooking',
  APPOINTMENT_BOOKING_CANCELLED: 'appointmentBooking',
  CLASS_SLOT_UPDATED: 'classSlot',
  CLASS_SLOT_CANCELLED: 'classSlot',
  DEVICE_CREATED: 'device',
  FINANCE_DEBT_COLLECTION_RUN_CREATED: 'debtCollectionRun',
  TAX_ADVISOR_EXPORT_CREATED: 'taxAdvisorExport',
  STUDIO_OPENING_HOURS_UPDATED: 'studio',
  ADDITIONAL_INFORMATION_FIELDS_UPDATED: 'studio',
  FINANCE_DEBT_COLLECTION_CASE_UPDATED: 'debtCollectionCase',
  FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: 'debtCollectionConfiguration',
  EMPLOYEE_CREATED: 'employee',
  EMPLOYEE_UPDATED: 'employee',
  EMPLOYEE_DELETED: 'employee',
} as const satisfies { readonly [T in KnownEventType]: keyof typeof FAMILIES };

/** The subscription field of one upstream event type: its declaration (src/events/), with its payload family. */
export interface EventSubscriptionSpec extends SubscriptionDeclaration {
  readonly family: keyof typeof FAMILIES;
}

/** The subscription field of every upstream event type. */
export const EVENT_SUBSCRIPTIONS = mapEventTypes((type): EventSubscriptionSpec => ({
  ...declarationOf(type).subscription,
  family: EVENT_FAMILIES[type],
}));

/** A member's `customerIds`: their own id only (FORBIDDEN naming another); their own when omitted. */
function ownCustomerIds(named: readonly number[] | null, member: number): readonly number[] {
  const other = named?.find((id) => id !== member);
  if (other !== undefined)
    throw clientError(ErrorCode.FORBIDDEN, `customerIds: a member may only name their own customer id, got ${other}`);
  return [member];
}

/** A resolver class holding the subscription field of one event type. */
function eventSubscriptionResolver(type: KnownEventType): ClassType {
  const { field, happened, records } = EVENT_SUBSCRIPTIONS[type];
  const spec = FAMILIES[EVENT_SUBSCRIPTIONS[type].family] as unknown as RecordFamily<RecordSubscriptionArgs, object>;

  @Resolver()
  class EventTypeSubscription {
    @Subscription(() => spec.payload, {
      name: field,
      description:
        `${happened} (${type}): the event, with ${records} as ${records.includes(' and ') ? 'they stand' : 'it stands'} after it. ` +
        'Events of the studios this token may see, in commit order, each once; a record it may not see is null. With `after`, first every matching event stored since then.',
      subscribe: ({ args, context }) => {
        const { studioIds, after: cursor } = args as RecordSubscriptionArgs;
        const ctx = context as GraphQLContext;
        const { shared } = requireRealtime(ctx).services;
        const selector = { types: [type], studioIds: listArgument(studioIds, 'studioIds'), ...spec.select(args as RecordSubscriptionArgs) };
        const member = ctx.scope.memberCustomerId;
        if (member !== null && spec.member === 'forbidden') throw memberForbidden(`Subscription.${field}`);
        // A member listens to their own customer id only; naming another one is FORBIDDEN, never an empty stream.
        if (member !== null && spec.member === 'entity') selector.entityIds = ownCustomerIds(selector.entityIds ?? null, member);
        const owner = member !== null && typeof spec.member === 'function' ? spec.member : undefined;
        return eventSubscription(ctx, selector, cursor, async (event) => {
          const records = await shared.get(`records:${event.seq}`, () => spec.load(event, ctx.dataSource));
          if (owner && Number(owner(records) ?? NaN) !== member) return undefined;
          return { event: toEventRecord(event), ...spec.visible(records, ctx.scope, event) };
        });
      },
    })
    // The arguments are read and checked once, by `subscribe`; this runs per event (per group), and
    // they declare no class-validator constraints: validating them again would only cost CPU.
    payload(@Root() payload: object, @Args(() => spec.args, { validate: false }) _args: RecordSubscriptionArgs): object {
      return payload;
    }
  }
  Object.defineProperty(EventTypeSubscription, 'name', { value: `${field[0]!.toUpperCase()}${field.slice(1)}Subscription` });
  return EventTypeSubscription;
}

/** The resolvers of the per-type subscription fields, one per known event type. */
export const EVENT_TYPE_SUBSCRIPTION_RESOLVERS: readonly ClassType[] = KNOWN_EVENT_TYPES.map(eventSubscriptionResolver);
