import { Field, InputType } from 'type-graphql';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { ErrorCode, clientError } from './errors.js';

@InputType({ description: 'A half-open time range: from (inclusive) to (exclusive). Either end may be left open.' })
export class TimeRangeInput {
  @Field(() => Date, { nullable: true, description: 'Inclusive start.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Exclusive end.' })
  to?: Date | null;
}

let parameter = 0;
const name = () => `filter${++parameter}`;

/** `column` (a property path such as `customer.lastEventAt`, epoch ms) within the range. */
export function whereTimeRange<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  column: string,
  range: TimeRangeInput | null | undefined,
  argument: string,
): void {
  if (!range) return;
  if (range.from && range.to && range.from.getTime() >= range.to.getTime()) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `${argument}: from must be before to`);
  }
  if (range.from) {
    const n = name();
    qb.andWhere(`${column} >= :${n}`, { [n]: range.from.getTime() });
  }
  if (range.to) {
    const n = name();
    qb.andWhere(`${column} < :${n}`, { [n]: range.to.getTime() });
  }
}

/** `column` in `values`, when `values` is given (an empty list matches nothing). */
export function whereIn<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  column: string,
  values: readonly (number | string)[] | null | undefined,
): void {
  if (!values) return;
  if (values.length === 0) {
    qb.andWhere('1 = 0');
    return;
  }
  if (values.length > 1000) throw clientError(ErrorCode.BAD_USER_INPUT, `at most 1000 values per list filter, got ${values.length}`);
  const n = name();
  qb.andWhere(`${column} IN (:...${n})`, { [n]: values });
}

/** Upstream ids arrive as GraphQL IDs (strings); they must be integers. */
export function parseIds(values: readonly string[] | null | undefined, argument: string): number[] | undefined {
  if (!values) return undefined;
  return values.map((value) => {
    if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw clientError(ErrorCode.BAD_USER_INPUT, `${argument}: expected integer ids, got ${JSON.stringify(value)}`);
    }
    return Number(value);
  });
}
