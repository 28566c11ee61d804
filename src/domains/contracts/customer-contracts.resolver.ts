import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Int, Resolver, Root } from 'type-graphql';
import { ChildList, childWindow, listPrefetch, registerPrefetch } from '../../graphql/children.js';
import { TimeRangeInput } from '../../graphql/filters.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { DEFAULT_NESTED_SIZE, nestedSize } from '../../graphql/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { Contract } from './contract.entity.js';

const CONTRACTS_QUERY = { entity: Contract, parentColumns: ['tenantId', 'customerId'], studioColumn: 'studioId', order: [['firstEventAt', 'DESC'], ['id', 'DESC']] } as const;
const CONTRACTS = new ChildList('contractsOfCustomer', CONTRACTS_QUERY, ['tenantId', 'customerId'], (args) =>
  childWindow('contracts', CONTRACTS_QUERY.order, { after: args['after'] as string | null | undefined, range: { column: 'firstEventAt', argument: 'firstEventAt', value: args['firstEventAt'] as TimeRangeInput | null | undefined } }));
registerPrefetch('Customer', 'contracts', CONTRACTS.parentColumns, listPrefetch(CONTRACTS));

/** `Customer.contracts`: kept with the contracts domain; type-graphql merges it into the Customer type. */
@Resolver(() => Customer)
export class CustomerContractsResolver {
  @FieldResolver(() => [Contract], { description: "The customer's contracts (those this token may see), the newest first (by their earliest event)." })
  contracts(
    @Root() customer: Customer,
    @Arg('first', () => Int, { defaultValue: DEFAULT_NESTED_SIZE }) first: number,
    @Arg('after', () => ID, { nullable: true, description: 'The id of the last item you have: the list goes on after it (an id not in the list: nothing).' }) after: string | null,
    @Arg('firstEventAt', () => TimeRangeInput, { nullable: true, description: 'Only contracts whose earliest event (their creation, as far as the webhooks tell) lies within this range.' }) firstEventAt: TimeRangeInput | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Contract[]> {
    return CONTRACTS.load(context, customer, nestedSize(first, 'contracts'), info, { after, firstEventAt });
  }
}
