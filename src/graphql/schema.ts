import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { EventTypeResolver } from './event-type.resolver.js';

/**
 * Assembles the GraphQL schema from the resolvers. Arguments are checked with class-validator
 * (`validate: true`). The SDL is not written here: `npm run emit:schema` writes `schema.graphql`, and
 * `npm run check:schema` fails when it has drifted from the code.
 */
export function buildGraphQLSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: [EventTypeResolver], validate: true, emitSchemaFile: false });
}
