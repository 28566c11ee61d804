import 'reflect-metadata';
import { execute, parse, type GraphQLSchema } from 'graphql';
import { Arg, Field, InputType, ObjectType, Query, Resolver, buildSchema } from 'type-graphql';
import { PersonalData, personalDataGuards, guardPersonalData } from '../src/domains/access/personal-data.js';
import type { Viewer } from '../src/api/viewer.js';

/**
 * The guard itself, on a schema of its own: a filter on a personal field (the API has none yet, the
 * partner walk in access-partner.test.ts covers every output field) is refused to a viewer without
 * personalData before the resolver runs, and a personal field must be nullable.
 */

@ObjectType()
class Person {
  @Field() id!: string;
  @PersonalData() @Field(() => String, { nullable: true }) lastName!: string | null;
}

@InputType()
class PersonFilter {
  @Field(() => [String], { nullable: true }) ids?: string[] | null;
  @PersonalData() @Field(() => String, { nullable: true }) lastName?: string | null;
}

let resolverRuns = 0;
const PEOPLE: Person[] = [
  { id: '1', lastName: 'Schulz' },
  { id: '2', lastName: 'Wolf' },
];

@Resolver(() => Person)
class PersonResolver {
  @Query(() => [Person])
  people(@Arg('filter', () => PersonFilter, { nullable: true }) filter: PersonFilter | null): Person[] {
    resolverRuns += 1;
    return PEOPLE.filter((p) => (!filter?.lastName || p.lastName === filter.lastName) && (!filter?.ids || filter.ids.includes(p.id)));
  }
}

@ObjectType()
class Broken {
  @PersonalData() @Field(() => String) email!: string;
}
@Resolver(() => Broken)
class BrokenResolver {
  @Query(() => Broken)
  broken(): Broken {
    return { email: 'x@example.com' };
  }
}

const viewer = (personalData: boolean): Viewer => ({ role: 'partner', tokenId: 1, studioIds: null, personalData, expiresAt: null });

describe('guardPersonalData', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildSchema({ resolvers: [PersonResolver], validate: false });
    guardPersonalData(schema);
  });
  const run = (query: string, personalData: boolean) =>
    execute({ schema, document: parse(query), contextValue: { viewer: viewer(personalData) } });

  it('when a filter names a personal input field, then a viewer without personalData gets PERSONAL_DATA_FORBIDDEN and the resolver never runs', async () => {
    const before = resolverRuns;
    const refused = await run('{ people(filter: {lastName: "Wolf"}) { id } }', false);
    expect(refused.data).toBeNull();
    expect(refused.errors?.map((e) => [e.extensions['code'], e.message])).toEqual([
      [
        'PERSONAL_DATA_FORBIDDEN',
        'filter.lastName is personal data: this token may not read it (partner tokens need the personalData permission)',
      ],
    ]);
    expect(resolverRuns).toBe(before);
    // Other filters, and the same filter for a viewer with personalData, work.
    expect((await run('{ people(filter: {ids: ["1"]}) { id } }', false)).data).toEqual({ people: [{ id: '1' }] });
    expect((await run('{ people(filter: {lastName: "Wolf"}) { id lastName } }', true)).data).toEqual({
      people: [{ id: '2', lastName: 'Wolf' }],
    });
    expect(personalDataGuards(schema)).toEqual({ fields: ['Person.lastName'], arguments: ['Query.people(filter.lastName)'] });
  });

  it('when a personal field is asked by a viewer without personalData, then it alone is null with an error', async () => {
    const result = await run('{ people { id lastName } }', false);
    expect(result.data).toEqual({
      people: [
        { id: '1', lastName: null },
        { id: '2', lastName: null },
      ],
    });
    expect(result.errors?.map((e) => [e.extensions['code'], e.path?.join('.')])).toEqual([
      ['PERSONAL_DATA_FORBIDDEN', 'people.0.lastName'],
      ['PERSONAL_DATA_FORBIDDEN', 'people.1.lastName'],
    ]);
  });

  it('when a personal field is non-null, then the schema is refused at build', async () => {
    const broken = await buildSchema({ resolvers: [BrokenResolver], validate: false });
    expect(() => guardPersonalData(broken)).toThrow('Broken.email is marked as personal data but is non-null');
  });
});
