import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { ApiTokenResolver } from '../domains/access/token.resolver.js';
import { guardPersonalData } from '../domains/access/personal-data.js';
import { AggregatorMembershipResolver } from '../domains/aggregators/aggregator-membership.resolver.js';
import {
  AGGREGATOR_MEMBERSHIP_PREFETCH,
  CustomerAggregatorMembershipsResolver,
} from '../domains/aggregators/customer-aggregator-memberships.resolver.js';
import { AppointmentBookingResolver } from '../domains/appointments/appointment-booking.resolver.js';
import {
  APPOINTMENT_BOOKING_PREFETCH,
  CustomerAppointmentBookingsResolver,
} from '../domains/appointments/customer-appointment-bookings.resolver.js';
import { ClassBookingResolver } from '../domains/classes/class-booking.resolver.js';
import { ClassSlotResolver } from '../domains/classes/class-slot.resolver.js';
import { CLASS_BOOKING_PREFETCH, CustomerClassBookingsResolver } from '../domains/classes/customer-class-bookings.resolver.js';
import { ContractResolver } from '../domains/contracts/contract.resolver.js';
import { CONTRACT_PREFETCH, CustomerContractsResolver } from '../domains/contracts/customer-contracts.resolver.js';
import { CUSTOMER_COLUMNS, CUSTOMER_VISIT_PREFETCH, CustomerResolver } from '../domains/customers/customer.resolver.js';
import { CONTRACT_PARTS_PREFETCH, ContractPartsResolver } from '../domains/contracts/contract-parts.resolver.js';
import { DeviceResolver } from '../domains/devices/device.resolver.js';
import { EmployeeResolver } from '../domains/employees/employee.resolver.js';
import { EventResolver } from '../domains/events/event.resolver.js';
import { DebtCollectionRunResolver } from '../domains/finance/debt-collection-run.resolver.js';
import { TaxAdvisorExportResolver } from '../domains/finance/tax-advisor-export.resolver.js';
import { RecordStatsResolver } from '../domains/stats/record-stats.resolver.js';
import { StatsResolver } from '../domains/stats/stats.resolver.js';
import { StudioResolver } from '../domains/studios/studio.resolver.js';
import { STUDIO_HOURS_COLUMNS, StudioHoursResolver } from '../domains/studios/studio-hours.resolver.js';
import { DebtCollectionCaseResolver } from '../domains/finance/debt-collection-case.resolver.js';
import { DebtCollectionConfigurationResolver } from '../domains/finance/debt-collection-configuration.resolver.js';
import { VISIT_COLUMNS, VisitResolver, scopeVisitCheckouts } from '../domains/visits/visit.resolver.js';
import { EventsSubscriptionResolver } from '../realtime/events.subscription.js';
import { EVENT_TYPE_SUBSCRIPTION_RESOLVERS } from '../realtime/event-type-fields.subscription.js';
import { EventTypeResolver } from './event-type.resolver.js';
import { useFieldHints, type FieldHints } from '../api/children.js';
import { enforceStudioScope } from './studio-scope.js';
import { enforceMemberAccess } from './member-access.js';
import { ClassBookingClassResolver, ClassSlotHydratedFieldsResolver } from '../domains/classes/class-hydrated-fields.resolver.js';
import { CUSTOMER_HYDRATED_COLUMNS, CustomerHydratedFieldsResolver } from '../domains/customers/customer-hydrated-fields.resolver.js';
import { CUSTOMER_ACTIVITY_PREFETCH } from '../domains/customers/customer-activity.js';
import { HydrationJobsResolver } from '../upstream/hydration/hydration-jobs.resolver.js';
import { RecordHydratedSubscriptionResolver } from '../upstream/hydration/record-hydrated.subscription.js';
import { ClassReportResolver } from '../domains/reports/class-report.resolver.js';
import { AbsentMemberResolver, MembersReportResolver } from '../domains/reports/member-report.resolver.js';
import { StudioSummaryQueryResolver, StudioSummaryResolver } from '../domains/reports/studio-summary.resolver.js';

/** Every resolver of the API. */
export const RESOLVERS = [
  EventTypeResolver,
  StudioResolver,
  CustomerResolver,
  VisitResolver,
  ContractResolver,
  CustomerContractsResolver,
  AggregatorMembershipResolver,
  CustomerAggregatorMembershipsResolver,
  ClassSlotResolver,
  ClassBookingResolver,
  CustomerClassBookingsResolver,
  AppointmentBookingResolver,
  CustomerAppointmentBookingsResolver,
  DeviceResolver,
  DebtCollectionRunResolver,
  TaxAdvisorExportResolver,
  EventResolver,
  StatsResolver,
  RecordStatsResolver,
  EventsSubscriptionResolver,
  ...EVENT_TYPE_SUBSCRIPTION_RESOLVERS,
  // Hydration (src/upstream/hydration/): fields it fills, the admin view of its queue, its subscription.
  CustomerHydratedFieldsResolver,
  ClassSlotHydratedFieldsResolver,
  ClassBookingClassResolver,
  HydrationJobsResolver,
  RecordHydratedSubscriptionResolver,
  // Reports (src/domains/reports/): class fill, members, the per-studio summary.
  ClassReportResolver,
  MembersReportResolver,
  AbsentMemberResolver,
  StudioSummaryQueryResolver,
  StudioSummaryResolver,
  // Token management (admin only).
  ApiTokenResolver,
  // The sister platform's studio and finance types: opening hours on Studio, debt-collection cases and settings.
  StudioHoursResolver,
  DebtCollectionCaseResolver,
  DebtCollectionConfigurationResolver,
  // Contracts' idle periods and additional modules (src/domains/contracts/).
  ContractPartsResolver,
  // Employees (src/domains/employees/).
  EmployeeResolver,
] as const;

/**
 * type-graphql insists on a PubSub once there are subscriptions, but every subscription field here
 * brings its own `subscribe` (realtime/): topics are never used.
 */
const NO_TOPICS: PubSub = {
  publish: () => {
    throw new Error('subscriptions publish through the event feed (realtime/feed.ts), not topics');
  },
  subscribe: () => {
    throw new Error('subscriptions listen to the event feed (realtime/feed.ts), not topics');
  },
};

/** What the resolvers declare about the columns their fields read and the lists read with their parent. */
const FIELD_HINTS: FieldHints = {
  columns: [CUSTOMER_COLUMNS, CUSTOMER_HYDRATED_COLUMNS, VISIT_COLUMNS, STUDIO_HOURS_COLUMNS],
  prefetches: [
    ...CUSTOMER_VISIT_PREFETCH,
    ...CUSTOMER_ACTIVITY_PREFETCH,
    CONTRACT_PREFETCH,
    CLASS_BOOKING_PREFETCH,
    APPOINTMENT_BOOKING_PREFETCH,
    AGGREGATOR_MEMBERSHIP_PREFETCH,
    ...CONTRACT_PARTS_PREFETCH,
  ],
};

/**
 * Assembles the GraphQL schema from the resolvers. Arguments are checked with class-validator
 * (`validate: true`), and studio ids in arguments against the viewer's scope (studio-scope.ts). The SDL is not written here: `npm run emit:schema` writes `schema.graphql`, and
 * `npm run check:schema` fails when it has drifted from the code.
 */
export async function buildGraphQLSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({ resolvers: RESOLVERS, validate: true, emitSchemaFile: false, pubSub: NO_TOPICS });
  useFieldHints(schema, FIELD_HINTS);
  scopeVisitCheckouts(schema);
  // Every studioId / studioIds argument or filter field: FORBIDDEN outside the token's scope.
  enforceStudioScope(schema);
  // Every field marked @PersonalData(): PERSONAL_DATA_FORBIDDEN for a viewer without personalData.
  guardPersonalData(schema);
  // A member's JWT: every root field classified, the ones holding nothing of theirs FORBIDDEN.
  enforceMemberAccess(schema);
  return schema;
}
