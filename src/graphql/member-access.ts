import { defaultFieldResolver, getNamedType, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { GraphQLContext } from '../api/context.js';
import { memberForbidden } from '../api/errors.js';

/**
 * What a member (a JWT's viewer) may do with a root field:
 * - `own`: allowed; what it reads is restricted to the member's own records inside SQL (scope.ts
 *   `ownerSql`, children.ts), and subscriptions to the member's own events (event-type-fields.subscription.ts);
 * - `public`: allowed; what a studio shows the public (studios, occupancy, the class schedule), where
 *   any record of a customer reached from it is again the member's own only;
 * - `forbidden`: FORBIDDEN for members (statistics over all customers, the event log, devices,
 *   finance, hydration, administration).
 */
export type MemberAccess = 'own' | 'public' | 'forbidden';

/**
 * Every root field of the schema, classified. A field missing here fails the schema build (see
 * {@link enforceMemberAccess}): a new field is decided on before any member can reach it.
 */
export const MEMBER_ACCESS: Readonly<Record<string, MemberAccess>> = {
  'Query.customer': 'own',
  'Query.customers': 'own',
  'Query.contract': 'own',
  'Query.contracts': 'own',
  'Query.classBooking': 'own',
  'Query.classBookings': 'own',
  'Query.appointmentBooking': 'own',
  'Query.appointmentBookings': 'own',
  'Query.aggregatorMembership': 'own',
  'Query.aggregatorMemberships': 'own',
  'Query.visits': 'own',
  'Query.studio': 'public',
  'Query.studios': 'public',
  'Query.occupancy': 'public',
  'Query.classSlot': 'public',
  'Query.classSlots': 'public',
  'Query.eventTypes': 'public',
  'Query.appointmentBookingStats': 'forbidden',
  'Query.classBookingStats': 'forbidden',
  'Query.contractStats': 'forbidden',
  'Query.customerStats': 'forbidden',
  'Query.eventStats': 'forbidden',
  'Query.visitStats': 'forbidden',
  'Query.classSlotStats': 'forbidden',
  'Query.deviceStats': 'forbidden',
  'Query.financeStats': 'forbidden',
  'Query.event': 'forbidden',
  'Query.events': 'forbidden',
  'Query.device': 'forbidden',
  'Query.devices': 'forbidden',
  'Query.debtCollectionRun': 'forbidden',
  'Query.debtCollectionRuns': 'forbidden',
  'Query.taxAdvisorExport': 'forbidden',
  'Query.taxAdvisorExports': 'forbidden',
  'Query.hydrationJobs': 'forbidden',
  // Reports count other members (attendance, active members, absences): not for a member.
  'Query.classReport': 'forbidden',
  'Query.membersReport': 'forbidden',
  'Query.studioSummary': 'forbidden',
  // Token management is the admin's.
  'Query.apiTokens': 'forbidden',
  'Mutation.createApiToken': 'forbidden',
  'Mutation.revokeApiToken': 'forbidden',
  'Mutation.rotateApiToken': 'forbidden',
  'Mutation.retryHydrationJob': 'forbidden',
  'Mutation.retryParkedHydrationJobs': 'forbidden',
  'Subscription.customerCheckedIn': 'own',
  'Subscription.customerCheckedOut': 'own',
  'Subscription.customerCreated': 'own',
  'Subscription.customerUpdated': 'own',
  'Subscription.customerDeleted': 'own',
  'Subscription.customerCommunicationPreferencesUpdated': 'own',
  'Subscription.customerAccessDisabled': 'own',
  'Subscription.customerHomeStudioUpdated': 'own',
  'Subscription.customerCheckinStudiosUpdated': 'own',
  'Subscription.customerAccessMediumCreated': 'own',
  'Subscription.customerAccessMediumUpdated': 'own',
  'Subscription.customerAccessMediumDeleted': 'own',
  'Subscription.customerAccessRestrictionCreated': 'own',
  'Subscription.customerAccessRestrictionDeleted': 'own',
  'Subscription.contractCreated': 'own',
  'Subscription.contractUpdated': 'own',
  'Subscription.contractCancelled': 'own',
  'Subscription.contractIdlePeriodCreated': 'own',
  'Subscription.contractIdlePeriodUpdated': 'own',
  'Subscription.contractIdlePeriodCancelled': 'own',
  'Subscription.contractAdditionalModuleCreated': 'own',
  'Subscription.contractAdditionalModuleUpdated': 'own',
  'Subscription.contractAdditionalModuleDeleted': 'own',
  'Subscription.contractAdditionalModuleCancelled': 'own',
  'Subscription.aggregatorMemberCreated': 'own',
  'Subscription.classBookingCreated': 'own',
  'Subscription.classBookingUpdated': 'own',
  'Subscription.classBookingCancelled': 'own',
  'Subscription.appointmentBookingCreated': 'own',
  'Subscription.appointmentBookingUpdated': 'own',
  'Subscription.appointmentBookingCancelled': 'own',
  'Subscription.occupancyChanged': 'public',
  'Subscription.classSlotUpdated': 'public',
  'Subscription.classSlotCancelled': 'public',
  'Subscription.recordHydrated': 'own',
  'Subscription.events': 'forbidden',
  // An automatic check-out lists every customer the studio checked out: not for a member.
  'Subscription.customersCheckedOutAutomatically': 'forbidden',
  'Subscription.deviceCreated': 'forbidden',
  'Subscription.debtCollectionRunCreated': 'forbidden',
  'Subscription.taxAdvisorExportCreated': 'forbidden',
  // Studio information (name, opening hours) is public to the studio's members; its payload is the studio.
  'Subscription.studioOpeningHoursUpdated': 'public',
  'Subscription.studioAdditionalInformationFieldsUpdated': 'public',
  'Query.debtCollectionCase': 'forbidden',
  'Query.debtCollectionCases': 'forbidden',
  'Query.debtCollectionConfigurations': 'forbidden',
  'Subscription.debtCollectionCaseUpdated': 'forbidden',
  'Subscription.debtCollectionConfigurationUpdated': 'forbidden',
  // Staff records are the operator's: not a member's own, and not what a studio shows the public
  // (a trainer's name reaches members through the class schedule's `instructors`, not from here).
  'Query.employee': 'forbidden',
  'Query.employees': 'forbidden',
  'Subscription.employeeCreated': 'forbidden',
  'Subscription.employeeUpdated': 'forbidden',
  'Subscription.employeeDeleted': 'forbidden',
};

/**
 * Types that hold nothing of a member's and nothing a studio shows the public: any field returning
 * one, wherever it is, is FORBIDDEN for a member (a second line behind the root fields above).
 */
export const MEMBER_FORBIDDEN_TYPES: ReadonlySet<string> = new Set([
  'Device',
  'DebtCollectionRun',
  'TaxAdvisorExport',
  'HydrationJob',
  'EventConnection',
  'DebtCollectionCase',
  'DebtCollectionConfiguration',
  'Employee',
  'EmployeeConnection',
]);

/**
 * Checks that every root field is classified in {@link MEMBER_ACCESS} (throws otherwise, naming the
 * fields), and wraps the `forbidden` ones — and every field returning a {@link MEMBER_FORBIDDEN_TYPES}
 * type — so that a member's request is refused before the resolver runs (for a subscription before
 * the stream opens). Other viewers are untouched. Call once on the built schema.
 */
export function enforceMemberAccess(schema: GraphQLSchema): void {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((type) => type != null);
  const unclassified: string[] = [];
  for (const type of roots) {
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const access = MEMBER_ACCESS[coordinate];
      if (access === undefined) unclassified.push(coordinate);
      else if (access === 'forbidden') guard(field, coordinate, type === schema.getSubscriptionType());
    }
  }
  if (unclassified.length > 0) {
    throw new Error(`member access: classify ${unclassified.join(', ')} in MEMBER_ACCESS (src/graphql/member-access.ts)`);
  }
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || roots.includes(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (MEMBER_FORBIDDEN_TYPES.has(getNamedType(field.type).name)) guard(field, `${type.name}.${field.name}`, false);
    }
  }
}

function guard(
  field: {
    resolve?: GraphQLFieldResolver<unknown, GraphQLContext> | undefined;
    subscribe?: GraphQLFieldResolver<unknown, GraphQLContext> | undefined;
  },
  coordinate: string,
  subscription: boolean,
): void {
  const refuse = (context: GraphQLContext) => {
    if (context.viewer.role === 'member') throw memberForbidden(coordinate);
  };
  if (subscription && field.subscribe) {
    const subscribe = field.subscribe;
    field.subscribe = (source, args, context, info) => {
      refuse(context);
      return subscribe(source, args, context, info);
    };
  }
  const resolve = field.resolve ?? defaultFieldResolver;
  field.resolve = (source, args, context, info) => {
    refuse(context);
    return resolve(source, args, context, info);
  };
}
