import type { EntityTarget, SelectQueryBuilder } from 'typeorm';
import type { BookingRecord, BookingStatus } from './booking-record.js';
import type { GraphQLContext } from '../../api/context.js';
import { parseIds, whereIn, whereTimeRange, type TimeRangeInput } from '../../api/filters.js';
import { OrderDirection, isOwnId, paginate, type Connection, type ConnectionArgs } from '../../api/pagination.js';
import { SqlReader } from '../../db/sql-reader.js';

/** The filter fields class and appointment bookings share (each type declares its own input class). */
export interface BookingFilterFields {
  studioIds?: number[] | null;
  bookingIds?: string[] | null;
  customerIds?: string[] | null;
  status?: BookingStatus | null;
  createdAt?: TimeRangeInput | null;
  statusAt?: TimeRangeInput | null;
  cancelledAt?: TimeRangeInput | null;
  lastEventAt?: TimeRangeInput | null;
}

/** The order fields both booking types offer (their enums carry these values). */
export type BookingOrderField = 'id' | 'bookingId' | 'firstEventAt' | 'lastEventAt' | 'statusAt';

/** One booking by our id, scoped; null for an id that cannot be ours. */
export function bookingById<T extends BookingRecord>(entity: EntityTarget<T>, id: string, context: GraphQLContext): Promise<T | null> {
  if (!isOwnId(id)) return Promise.resolve(null);
  const qb = context.dataSource
    .getRepository(entity)
    .createQueryBuilder('booking')
    .where('booking.id = :id', { id: Number(id) });
  context.scope.where(qb, 'booking.studioId');
  context.scope.whereOwner(qb, 'booking');
  return SqlReader.of(context.dataSource).entity(qb);
}

/**
 * A page of bookings of either type: the viewer's scope, the shared filters, `extra` for a type's
 * own filters (on alias `booking`), then keyset pagination in the chosen order.
 */
export function bookingPage<T extends BookingRecord>(
  entity: EntityTarget<T>,
  context: GraphQLContext,
  page: ConnectionArgs,
  filter: BookingFilterFields | null,
  orderBy: { field: BookingOrderField; direction: OrderDirection } | null,
  extra: (qb: SelectQueryBuilder<T>) => void = () => undefined,
): Promise<Connection<T>> {
  const qb = context.dataSource.getRepository(entity).createQueryBuilder('booking');
  context.scope.where(qb, 'booking.studioId');
  context.scope.whereOwner(qb, 'booking');
  whereIn(qb, 'booking.studioId', filter?.studioIds);
  whereIn(qb, 'booking.bookingId', parseIds(filter?.bookingIds, 'filter.bookingIds'));
  whereIn(qb, 'booking.customerId', parseIds(filter?.customerIds, 'filter.customerIds'));
  extra(qb);
  if (filter?.status) whereIn(qb, 'booking.status', [filter.status]);
  whereTimeRange(qb, 'booking.createdAt', filter?.createdAt, 'filter.createdAt');
  whereTimeRange(qb, 'booking.statusAt', filter?.statusAt, 'filter.statusAt');
  whereTimeRange(qb, 'booking.cancelledAt', filter?.cancelledAt, 'filter.cancelledAt');
  whereTimeRange(qb, 'booking.lastEventAt', filter?.lastEventAt, 'filter.lastEventAt');
  const field = orderBy?.field ?? 'id';
  return paginate(qb, page, {
    column: `booking.${field}`,
    value: (b) => (field === 'id' ? b.id : field === 'bookingId' ? b.bookingId : b[field].getTime()),
    direction: orderBy?.direction ?? OrderDirection.ASC,
    idColumn: 'booking.id',
    id: (b) => b.id,
  });
}
