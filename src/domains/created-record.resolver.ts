import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, registerEnumType, Resolver, Root, type ClassType } from 'type-graphql';
import { SqlReader } from '../db/sql-reader.js';
import type { TenantRecord } from '../db/tenant-record.js';
import type { KnownEventType } from '../events/event-catalog.js';
import type { GraphQLContext } from '../api/context.js';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../api/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, isOwnId, OrderDirection, paginate } from '../api/pagination.js';
import { Studio } from './studios/studio.entity.js';
import { studioLoader } from './studios/studio.resolver.js';

/** A record one *_CREATED event brings into being (CreatedRecordProjector), as its entity class. */
type CreatedRecord<K extends string> = TenantRecord & { createdAt: Date } & { [key in K]: number };

/** What differs between the record types that one *_CREATED event creates: names, and words. */
export interface CreatedRecordNames<K extends string> {
  /** The GraphQL type name, e.g. `Device`; also the prefix of its order and filter inputs. */
  readonly typeName: string;
  /** Singular and plural nouns for descriptions, e.g. `device` / `devices`, `debt-collection run` / `debt-collection runs`. */
  readonly noun: string;
  readonly nouns: string;
  /** The root fields: one record (`device`) and the list (`devices`). */
  readonly one: string;
  readonly many: string;
  /** The upstream id column (`deviceId`) and its order-field name (`DEVICE_ID`). */
  readonly idField: K;
  readonly idOrderName: string;
  /** The event that creates it. */
  readonly createdBy: KnownEventType;
  /** The query builder's alias, e.g. `device`. */
  readonly alias: string;
}

const capitalised = (text: string) => `${text[0]!.toUpperCase()}${text.slice(1)}`;

/**
 * The GraphQL of a record type that only a *_CREATED event makes and hydration fills (devices,
 * debt-collection runs, tax-advisor exports): one record by our id, a filtered, ordered connection
 * within the token's studios, and its studio. They differed only in names, so they are made here.
 */
export function createdRecordResolver<K extends string, T extends CreatedRecord<K>>(
  entity: ClassType<T>,
  names: CreatedRecordNames<K>,
): ClassType {
  const { typeName, noun, nouns, one, many, idField, idOrderName, createdBy, alias } = names;
  const idsField = `${idField}s`;

  const OrderField = { ID: 'id', [idOrderName]: idField, FIRST_EVENT_AT: 'firstEventAt', LAST_EVENT_AT: 'lastEventAt' } as const;
  type OrderFieldValue = 'id' | K | 'firstEventAt' | 'lastEventAt';
  registerEnumType(OrderField, { name: `${typeName}OrderField`, description: `What to order ${nouns} by.` });

  @InputType(`${typeName}Order`, { description: `How to order ${nouns}.` })
  class Order {
    @Field(() => OrderField, { defaultValue: OrderField.ID })
    field!: OrderFieldValue;

    @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
    direction!: OrderDirection;
  }

  @InputType(`${typeName}Filter`, { description: `Which ${nouns} to list. Every condition given must hold.` })
  class Filter {
    @Field(() => [ID], { nullable: true, description: `${capitalised(nouns)} that these studios delivered.` })
    studioIds?: number[] | null;

    /** The upstream ids filter (`deviceIds`...), declared below. */
    [ids: string]: unknown;

    @Field(() => TimeRangeInput, { nullable: true, description: `Created upstream (${createdBy}) within this range.` })
    createdAt?: TimeRangeInput | null;

    @Field(() => TimeRangeInput, { nullable: true, description: 'Latest event within this range.' })
    lastEventAt?: TimeRangeInput | null;
  }
  // Its name differs per type (`deviceIds`), so it is declared by name.
  Field(() => [ID], { nullable: true, description: `Upstream ${noun} ids.` })(Filter.prototype, idsField);

  const RecordConnection = ConnectionType(entity, typeName, noun);

  @Resolver(() => entity)
  class CreatedRecordResolver {
    @Query(() => entity, {
      name: one,
      nullable: true,
      description: `One ${noun} by our id; null when it does not exist or this token may not see it.`,
    })
    one(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<T | null> {
      if (!isOwnId(id)) return Promise.resolve(null);
      const qb = context.dataSource
        .getRepository(entity)
        .createQueryBuilder(alias)
        .where(`${alias}.id = :id`, { id: Number(id) });
      context.scope.where(qb, `${alias}.studioId`);
      return SqlReader.of(context.dataSource).entity(qb);
    }

    @Query(() => RecordConnection, {
      name: many,
      description: `${capitalised(nouns)} this token may see (those delivered by one of its studios), filtered and ordered, one page at a time.`,
    })
    many(
      @Args() page: ConnectionArgs,
      @Arg('filter', () => Filter, { nullable: true }) filter: Filter | null,
      @Arg('orderBy', () => Order, { nullable: true }) orderBy: Order | null,
      @Ctx() context: GraphQLContext,
    ): Promise<Connection<T>> {
      const qb = context.dataSource.getRepository(entity).createQueryBuilder(alias);
      context.scope.where(qb, `${alias}.studioId`);
      whereIn(qb, `${alias}.studioId`, filter?.studioIds);
      whereIn(qb, `${alias}.${idField}`, parseIds(filter?.[idsField] as string[] | null | undefined, `filter.${idsField}`));
      whereTimeRange(qb, `${alias}.createdAt`, filter?.createdAt, 'filter.createdAt');
      whereTimeRange(qb, `${alias}.lastEventAt`, filter?.lastEventAt, 'filter.lastEventAt');
      const field: OrderFieldValue = orderBy?.field ?? 'id';
      return paginate(qb, page, {
        column: `${alias}.${field}`,
        value: (r) =>
          field === 'id' ? r.id : field === idField ? r[idField] : r[field as 'firstEventAt' | 'lastEventAt' | 'createdAt'].getTime(),
        direction: orderBy?.direction ?? OrderDirection.ASC,
        idColumn: `${alias}.id`,
        id: (r) => r.id,
      });
    }

    @FieldResolver(() => Studio, { nullable: true, description: `The studio that delivered ${createdBy}.` })
    studio(@Root() record: T, @Ctx() context: GraphQLContext): Promise<Studio | null> {
      return studioLoader(context).load(record.studioId);
    }
  }
  Object.defineProperty(CreatedRecordResolver, 'name', { value: `${typeName}Resolver` });
  return CreatedRecordResolver;
}
