import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { AggregatorMembershipResolver } from '../domains/aggregators/aggregator-membership.resolver.js';
import { CustomerAggregatorMembershipsResolver } from '../domains/aggregators/customer-aggregator-memberships.resolver.js';
import { AppointmentBookingResolver } from '../domains/appointments/appointment-booking.resolver.js';
import { CustomerAppointmentBookingsResolver } from '../domains/appointments/customer-appointment-bookings.resolver.js';
import { ClassBookingResolver } from '../domains/classes/class-booking.resolver.js';
import { ClassSlotResolver } from '../domains/classes/class-slot.resolver.js';
import { CustomerClassBookingsResolver } from '../domains/classes/customer-class-bookings.resolver.js';
import { ContractResolver } from '../domains/contracts/contract.resolver.js';
import { CustomerContractsResolver } from '../domains/contracts/customer-contracts.resolver.js';
import { CustomerResolver } from '../domains/customers/customer.resolver.js';
import { DeviceResolver } from '../domains/devices/device.resolver.js';
import { EventResolver } from '../domains/events/event.resolver.js';
import { DebtCollectionRunResolver } from '../domains/finance/debt-collection-run.resolver.js';
import { TaxAdvisorExportResolver } from '../domains/finance/tax-advisor-export.resolver.js';
import { StatsResolver } from '../domains/stats/stats.resolver.js';
import { StudioResolver } from '../domains/studios/studio.resolver.js';
import { VisitResolver } from '../domains/visits/visit.resolver.js';
import { EventTypeResolver } from './event-type.resolver.js';

/** Every resolver of the API. */
export const RESOLVERS = [EventTypeResolver, StudioResolver, CustomerResolver, VisitResolver,
  ContractResolver, CustomerContractsResolver, AggregatorMembershipResolver, CustomerAggregatorMembershipsResolver,
  ClassSlotResolver, ClassBookingResolver, CustomerClassBookingsResolver, AppointmentBookingResolver, CustomerAppointmentBookingsResolver,
  DeviceResolver, DebtCollectionRunResolver, TaxAdvisorExportResolver,
  EventResolver, StatsResolver] as const;

/**
 * Assembles the GraphQL schema from the resolvers. Arguments are checked with class-validator
 * (`validate: true`). The SDL is not written here: `npm run emit:schema` writes `schema.graphql`, and
 * `npm run check:schema` fails when it has drifted from the code.
 */
export function buildGraphQLSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: RESOLVERS, validate: true, emitSchemaFile: false });
}
