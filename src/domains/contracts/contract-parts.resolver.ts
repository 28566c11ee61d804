import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { NestedPageArgs, listPrefetch, pagedChildList, type PrefetchHint } from '../../api/children.js';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput } from '../../api/filters.js';
import { nestedSize } from '../../api/pagination.js';
import { ContractAdditionalModule } from './contract-additional-module.entity.js';
import { ContractIdlePeriod } from './contract-idle-period.entity.js';
import { Contract } from './contract.entity.js';

const PARENT = ['tenantId', 'contractId'] as const;
const ORDER = [
  ['firstEventAt', 'DESC'],
  ['id', 'DESC'],
] as const;

const IDLE_PERIODS = pagedChildList(
  'idlePeriodsOfContract',
  { entity: ContractIdlePeriod, parentColumns: PARENT, studioColumn: 'studioId', order: ORDER },
  PARENT,
  'idlePeriods',
  'firstEventAt',
);

const ADDITIONAL_MODULES = pagedChildList(
  'additionalModulesOfContract',
  {
    entity: ContractAdditionalModule,
    parentColumns: PARENT,
    studioColumn: 'studioId',
    order: ORDER,
  },
  PARENT,
  'additionalModules',
  'firstEventAt',
);

/** `Contract.idlePeriods` and `Contract.additionalModules` read inside the contracts' statement (see useFieldHints). */
export const CONTRACT_PARTS_PREFETCH: readonly PrefetchHint[] = [
  { type: 'Contract', field: 'idlePeriods', reads: IDLE_PERIODS.parentColumns, prefetch: listPrefetch(IDLE_PERIODS) },
  { type: 'Contract', field: 'additionalModules', reads: ADDITIONAL_MODULES.parentColumns, prefetch: listPrefetch(ADDITIONAL_MODULES) },
];

const FIRST_EVENT = (what: string) => ({
  nullable: true,
  description: `Only ${what} whose earliest event (their creation, as far as the webhooks tell) lies within this range.`,
});

/** `Contract.idlePeriods` and `Contract.additionalModules`: the records under a contract. */
@Resolver(() => Contract)
export class ContractPartsResolver {
  @FieldResolver(() => [ContractIdlePeriod], {
    description:
      "The contract's pauses (idle periods) this token may see, cancelled ones included (see `status`), the newest first (by their earliest event).",
  })
  idlePeriods(
    @Root() contract: Contract,
    @Args() { first, after }: NestedPageArgs,
    @Arg('firstEventAt', () => TimeRangeInput, FIRST_EVENT('idle periods')) firstEventAt: TimeRangeInput | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ContractIdlePeriod[]> {
    return IDLE_PERIODS.load(context, contract, nestedSize(first, 'idlePeriods'), info, { after, firstEventAt });
  }

  @FieldResolver(() => [ContractAdditionalModule], {
    description:
      "The contract's add-on modules this token may see, cancelled and deleted ones included (see `status`), the newest first (by their earliest event).",
  })
  additionalModules(
    @Root() contract: Contract,
    @Args() { first, after }: NestedPageArgs,
    @Arg('firstEventAt', () => TimeRangeInput, FIRST_EVENT('modules')) firstEventAt: TimeRangeInput | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ContractAdditionalModule[]> {
    return ADDITIONAL_MODULES.load(context, contract, nestedSize(first, 'additionalModules'), info, { after, firstEventAt });
  }
}
