import { Ctx, Field, FieldResolver, ObjectType, Resolver, Root } from 'type-graphql';
import { SqlReader } from '../../db/sql-reader.js';
import type { GraphQLContext } from '../../api/context.js';
import { CommunicationPreference } from './communication-preference.entity.js';
import { Customer } from './customer.entity.js';
import type { FieldColumns } from '../../api/field-columns.js';
import { PersonalData } from '../access/personal-data.js';

/** The parent columns of the hydrated fields (see FieldColumns). */
export const CUSTOMER_HYDRATED_COLUMNS: FieldColumns = {
  type: 'Customer',
  fields: {
    address: ['addressStreet', 'addressHouseNumber', 'addressZipCode', 'addressCity', 'addressCountry'],
    communicationPreferences: ['communicationPreferencesHydratedAt', 'tenantId', 'customerId'],
  },
};

@ObjectType({ description: "A customer's postal address, as the operator recorded it. Personal data." })
export class PostalAddress {
  @Field(() => String, { nullable: true }) street!: string | null;
  @Field(() => String, { nullable: true }) houseNumber!: string | null;
  @Field(() => String, { nullable: true }) zipCode!: string | null;
  @Field(() => String, { nullable: true }) city!: string | null;
  @Field(() => String, { nullable: true, description: 'As the operator sends it (usually an ISO 3166 code such as DE).' }) country!:
    string | null;
}

/** The customer fields hydration adds that are not plain columns. */
@Resolver(() => Customer)
export class CustomerHydratedFieldsResolver {
  @PersonalData()
  @FieldResolver(() => PostalAddress, {
    nullable: true,
    description: 'Postal address. Personal data: null until hydrated from the upstream Open API, and again once the customer is gone.',
  })
  address(@Root() customer: Customer): PostalAddress | null {
    const address = {
      street: customer.addressStreet,
      houseNumber: customer.addressHouseNumber,
      zipCode: customer.addressZipCode,
      city: customer.addressCity,
      country: customer.addressCountry,
    };
    return Object.values(address).every((v) => v === null || v === undefined) ? null : address;
  }

  @PersonalData()
  @FieldResolver(() => [CommunicationPreference], {
    nullable: true,
    description:
      'What the customer agreed to receive, per category of messages, and through which channels. ' +
      'Null until read from the upstream Open API (after CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED); empty once the customer is gone.',
  })
  async communicationPreferences(@Root() customer: Customer, @Ctx() context: GraphQLContext): Promise<CommunicationPreference[] | null> {
    if (customer.communicationPreferencesHydratedAt === null) return null;
    return context.loaders
      .get<readonly [number, number], CommunicationPreference[]>(
        'communicationPreferencesOfCustomer',
        async (keys) => {
          const rows = await SqlReader.of(context.dataSource).find(
            CommunicationPreference,
            keys.map(([tenantId, customerId]) => ({ tenantId, customerId })),
            { position: 'ASC' },
          );
          return keys.map(([t, c]) => rows.filter((r) => r.tenantId === t && r.customerId === c));
        },
        ([t, c]) => `${t}:${c}`,
      )
      .load([customer.tenantId, customer.customerId]);
  }
}
