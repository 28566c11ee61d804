import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { SqlReader } from '../../db/sql-reader.js';
import type { GraphQLContext } from '../../api/context.js';
import { ErrorCode, clientError } from '../../api/errors.js';
import { parseIds, whereIn } from '../../api/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, OrderDirection, paginate } from '../../api/pagination.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { Employee } from './employee.entity.js';
import { TABLES } from '../../db/tables.js';

@ObjectType({ description: "One of an employee's competences (`employeeCompetences[]` of the Open API): what they may teach or do." })
export class EmployeeCompetence {
  @Field(() => ID, { nullable: true, description: 'The upstream competence id; null when the upstream sent a name only.' })
  id!: string | null;

  @Field({ description: 'The competence, as the operator named it (e.g. "Yoga", "Personal training").' })
  name!: string;
}

@InputType({ description: 'Which employees to list. Every condition given must hold.' })
export class EmployeeFilter {
  @Field(() => [ID], { nullable: true, description: 'Employees that these studios delivered (the studio of their earliest event).' })
  studioIds?: number[] | null;

  @Field(() => [String], {
    nullable: true,
    description:
      'Employees with one of these roles (STUDIO_OWNER, STUDIO_MANAGER, TRAINER, SERVICE_EMPLOYEE, ADMINISTRATION_OR_FINANCE, MARKETING, or whatever new value the upstream sends; any case). ' +
      'From the Open API: an employee not hydrated yet, or without a role, matches none.',
  })
  businessRoles?: string[] | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: 'true: deleted employees (tombstones) are listed too; by default they are left out.',
  })
  includeDeleted?: boolean | null;
}

export const EmployeeConnection = ConnectionType(Employee, 'Employee', 'employee');

/** `competencesJson` as written by hydration (employee.hydrators.ts): `[{id, name}]`. */
function competencesOf(json: string | null): EmployeeCompetence[] | null {
  if (json === null) return null;
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) return [];
  return parsed.map((item: { id?: unknown; name?: unknown }) => ({
    id: item.id == null ? null : String(item.id),
    name: String(item.name),
  }));
}

/**
 * Employees, scoped like every record: a token sees those whose earliest event came from one of its
 * studios. Members see none (member-access.ts): staff records are the operator's, not a member's.
 */
@Resolver(() => Employee)
export class EmployeeResolver {
  @Query(() => Employee, {
    nullable: true,
    description:
      'One employee by upstream employee id (deleted ones too, as tombstones); null when there is none this token may see. ' +
      "Upstream ids are unique within one operator: with `studioId`, the employee of that studio's operator; without it, a token whose studios belong to " +
      'several operators that each have an employee with this id gets BAD_USER_INPUT asking for `studioId`.',
  })
  async employee(
    @Arg('employeeId', () => ID, { description: 'The upstream employee id (the `entityId` of EMPLOYEE_*).' }) employeeId: string,
    @Arg('studioId', () => ID, { nullable: true, description: "A studio of the employee's operator (one this token may see)." })
    studioId: number | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Employee | null> {
    const [id] = parseIds([employeeId], 'employeeId') ?? [];
    const qb = context.dataSource
      .getRepository(Employee)
      .createQueryBuilder('employee')
      .where('employee.employeeId = :employeeId', { employeeId: id });
    context.scope.where(qb, 'employee.studioId');
    if (studioId != null)
      qb.andWhere(`employee.tenantId = (SELECT s."tenantId" FROM ${TABLES.studios} s WHERE s."id" = :operatorStudio)`, {
        operatorStudio: studioId,
      });
    const found = await SqlReader.of(context.dataSource).entities(qb.orderBy('employee.id').limit(2));
    if (found.length > 1) {
      throw clientError(
        ErrorCode.BAD_USER_INPUT,
        `employeeId: employees of more than one operator have id ${employeeId}; pass studioId to say which operator's`,
      );
    }
    return found[0] ?? null;
  }

  @Query(() => EmployeeConnection, {
    description:
      'Employees this token may see (those delivered by one of its studios), filtered, in the order they became known here, one page at a time.',
  })
  employees(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => EmployeeFilter, { nullable: true }) filter: EmployeeFilter | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<Employee>> {
    const qb = context.dataSource.getRepository(Employee).createQueryBuilder('employee');
    context.scope.where(qb, 'employee.studioId');
    whereIn(qb, 'employee.studioId', filter?.studioIds);
    whereIn(
      qb,
      'employee.businessRole',
      filter?.businessRoles?.map((role) => role.trim().toUpperCase()),
    );
    if (!filter?.includeDeleted) qb.andWhere('employee.deletedAt IS NULL');
    return paginate(qb, page, {
      column: 'employee.id',
      value: (e) => e.id,
      direction: OrderDirection.ASC,
      idColumn: 'employee.id',
      id: (e) => e.id,
    });
  }

  @FieldResolver(() => Boolean, { description: 'True once EMPLOYEE_DELETED arrived: the record is a tombstone, its personal data erased.' })
  deleted(@Root() employee: Employee): boolean {
    return employee.deletedAt !== null;
  }

  @FieldResolver(() => [EmployeeCompetence], {
    nullable: true,
    description: "The employee's competences (`employeeCompetences`), in the upstream's order. From the Open API; null until hydrated.",
  })
  competences(@Root() employee: Employee): EmployeeCompetence[] | null {
    return competencesOf(employee.competencesJson);
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered the earliest event about the employee.' })
  studio(@Root() employee: Employee, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(employee.studioId);
  }
}
