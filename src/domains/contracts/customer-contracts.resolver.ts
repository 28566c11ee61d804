import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, Info, Int, Resolver, Root } from 'type-graphql';
import { ChildList, listPrefetch, registerPrefetch } from '../../graphql/children.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { DEFAULT_NESTED_SIZE, nestedSize } from '../../graphql/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { Contract } from './contract.entity.js';

const CONTRACTS = new ChildList('contractsOfCustomer', { entity: Contract, parentColumns: ['tenantId', 'customerId'], studioColumn: 'studioId', order: [['firstEventAt', 'DESC'], ['id', 'DESC']] }, ['tenantId', 'customerId']);
registerPrefetch('Customer', 'contracts', CONTRACTS.parentColumns, listPrefetch(CONTRACTS));

/** `Customer.contracts`: kept with the contracts domain; type-graphql merges it into the Customer type. */
@Resolver(() => Customer)
export class CustomerContractsResolver {
  @FieldResolver(() => [Contract], { description: "The customer's contracts (those this token may see), the newest first (by their earliest event)." })
  contracts(@Root() customer: Customer, @Arg('first', () => Int, { defaultValue: DEFAULT_NESTED_SIZE }) first: number, @Ctx() context: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<Contract[]> {
    return CONTRACTS.load(context, customer, nestedSize(first, 'contracts'), info);
  }
}
