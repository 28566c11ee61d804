import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { CustomerResolver } from '../domains/customers/customer.resolver.js';
import { StudioResolver } from '../domains/studios/studio.resolver.js';
import { VisitResolver } from '../domains/visits/visit.resolver.js';
import { EventTypeResolver } from './event-type.resolver.js';

/** Every resolver of the API. */
export const RESOLVERS = [EventTypeResolver, StudioResolver, CustomerResolver, VisitResolver] as const;

/**
 * Assembles the GraphQL schema from the resolvers. Arguments are checked with class-validator
 * (`validate: true`). The SDL is not written here: `npm run emit:schema` writes `schema.graphql`, and
 * `npm run check:schema` fails when it has drifted from the code.
 */
export function buildGraphQLSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: RESOLVERS, validate: true, emitSchemaFile: false });
}
