import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { NestedPageArgs, listPrefetch, pagedChildList, type PrefetchHint } from '../../api/children.js';
import { TimeRangeInput } from '../../api/filters.js';
import type { GraphQLContext } from '../../api/context.js';
import { nestedSize } from '../../api/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { Contract } from './contract.entity.js';

const CONTRACTS = pagedChildList(
  'contractsOfCustomer',
  {
    entity: Contract,
    parentColumns: ['tenantId', 'customerId'],
    studioColumn: 'studioId',
    order: [
      ['firstEventAt', 'DESC'],
      ['id', 'DESC'],
    ],
  },
  ['tenantId', 'customerId'],
  'contracts',
  'firstEventAt',
);
/** `Customer.contracts` read inside the customers' statement (see useFieldHints). */
export const CONTRACT_PREFETCH: PrefetchHint = {
  type: 'Customer',
  field: 'contracts',
  reads: CONTRACTS.parentColumns,
  prefetch: listPrefetch(CONTRACTS),
};

/** `Customer.contracts`: kept with the contracts domain; type-graphql merges it into the Customer type. */
@Resolver(() => Customer)
export class CustomerContractsResolver {
  @FieldResolver(() => [Contract], {
    description: "The customer's contracts (those this token may see), the newest first (by their earliest event).",
  })
  contracts(
    @Root() customer: Customer,
    @Args() { first, after }: NestedPageArgs,
    @Arg('firstEventAt', () => TimeRangeInput, {
      nullable: true,
      description: 'Only contracts whose earliest event (their creation, as far as the webhooks tell) lies within this range.',
    })
    firstEventAt: TimeRangeInput | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Contract[]> {
    return CONTRACTS.load(context, customer, nestedSize(first, 'contracts'), info, { after, firstEventAt });
  }
}
