import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { loadChildren } from '../../graphql/children.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { DEFAULT_NESTED_SIZE, nestedSize } from '../../graphql/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { Contract } from './contract.entity.js';


/** `Customer.contracts`: kept with the contracts domain; type-graphql merges it into the Customer type. */
@Resolver(() => Customer)
export class CustomerContractsResolver {
  @FieldResolver(() => [Contract], { description: "The customer's contracts (those this token may see), the newest first (by their earliest event)." })
  contracts(@Root() customer: Customer, @Arg('first', () => Int, { defaultValue: DEFAULT_NESTED_SIZE }) first: number, @Ctx() context: GraphQLContext): Promise<Contract[]> {
    const size = nestedSize(first, 'contracts');
    return context.loaders
      .get<readonly [number, number], Contract[]>(`contractsOfCustomer:${size}`, (keys) =>
        loadChildren(context.dataSource, {
          entity: Contract, parentColumns: ['tenantId', 'customerId'], studioColumn: 'studioId',
          orderSql: 'r."firstEventAt" DESC, r."id" DESC',
        }, keys, size, context.scope), ([t, c]) => `${t}:${c}`)
      .load([customer.tenantId, customer.customerId]);
  }
}
