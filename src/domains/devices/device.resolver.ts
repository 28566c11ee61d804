import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../graphql/context.js';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../../graphql/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, isOwnId, OrderDirection, paginate } from '../../graphql/pagination.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { Device } from './device.entity.js';
import { SqlReader } from '../../db/sql-reader.js';

export enum DeviceOrderField {
  ID = 'id',
  DEVICE_ID = 'deviceId',
  FIRST_EVENT_AT = 'firstEventAt',
  LAST_EVENT_AT = 'lastEventAt',
}
registerEnumType(DeviceOrderField, { name: 'DeviceOrderField', description: 'What to order devices by.' });

@InputType({ description: 'How to order devices.' })
export class DeviceOrder {
  @Field(() => DeviceOrderField, { defaultValue: DeviceOrderField.ID })
  field!: DeviceOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which devices to list. Every condition given must hold.' })
export class DeviceFilter {
  @Field(() => [ID], { nullable: true, description: 'Devices that these studios delivered.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Upstream device ids.' })
  deviceIds?: string[] | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Created upstream (DEVICE_CREATED) within this range.' })
  createdAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Latest event within this range.' })
  lastEventAt?: TimeRangeInput | null;
}

export const DeviceConnection = ConnectionType(Device, 'Device', 'device');


@Resolver(() => Device)
export class DeviceResolver {
  @Query(() => Device, { nullable: true, description: 'One device by our id; null when it does not exist or this token may not see it.' })
  device(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<Device | null> {
    if (!isOwnId(id)) return Promise.resolve(null);
    const qb = context.dataSource.getRepository(Device).createQueryBuilder('device').where('device.id = :id', { id: Number(id) });
    context.scope.where(qb, 'device.studioId');
    return SqlReader.of(context.dataSource).entity(qb);
  }

  @Query(() => DeviceConnection, {
    description: 'Devices this token may see (those delivered by one of its studios), filtered and ordered, one page at a time.',
  })
  devices(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => DeviceFilter, { nullable: true }) filter: DeviceFilter | null,
    @Arg('orderBy', () => DeviceOrder, { nullable: true }) orderBy: DeviceOrder | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<Device>> {
    const qb = context.dataSource.getRepository(Device).createQueryBuilder('device');
    context.scope.where(qb, 'device.studioId');
    whereIn(qb, 'device.studioId', filter?.studioIds);
    whereIn(qb, 'device.deviceId', parseIds(filter?.deviceIds, 'filter.deviceIds'));
    whereTimeRange(qb, 'device.createdAt', filter?.createdAt, 'filter.createdAt');
    whereTimeRange(qb, 'device.lastEventAt', filter?.lastEventAt, 'filter.lastEventAt');
    const field = orderBy?.field ?? DeviceOrderField.ID;
    return paginate(qb, page, {
      column: `device.${field}`,
      value: (r) => (field === DeviceOrderField.ID ? r.id : field === DeviceOrderField.DEVICE_ID ? r.deviceId : r[field].getTime()),
      direction: orderBy?.direction ?? OrderDirection.ASC,
      idColumn: 'device.id',
      id: (r) => r.id,
    });
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered DEVICE_CREATED.' })
  studio(@Root() device: Device, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(device.studioId);
  }
}
