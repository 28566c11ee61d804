import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import { PersonalData } from '../access/personal-data.js';
import { TABLES } from '../../db/tables.js';

/**
 * A member or prospect of a tenant. Created by CUSTOMER_CREATED or by the first customer-keyed
 * event about it; never removed (CUSTOMER_DELETED leaves a tombstone). Names and other personal
 * data come from the Open API (hydration).
 */
@ObjectType({
  simpleResolvers: true,
  description:
    'A member or prospect of an operator, as far as the webhooks have told us. Deleted customers stay as tombstones (`deleted: true`).',
})
@Entity(TABLES.customers)
@Index('customers_key', ['tenantId', 'customerId'], { unique: true })
@Index('customers_presence', ['lastCheckinStudioId', 'lastCheckinAt'])
// Prefix search (customer-search.ts). The migration builds them for LIKE 'prefix%': COLLATE NOCASE on
// SQLite, text_pattern_ops on PostgreSQL (TypeORM cannot say either; its schema diff ignores both).
@Index('customers_search_name', ['searchName'])
@Index('customers_search_last_name', ['searchLastName'])
@Index('customers_search_email', ['searchEmail'])
@Index('customers_search_number', ['searchNumber'])
export class Customer extends TenantRecord {
  @Field(() => ID, { description: 'The upstream customer id (unique within the operator).' })
  @IdColumn()
  customerId!: number;

  /** Upstream time of CUSTOMER_CREATED, if it arrived. */
  @Field(() => Date, { nullable: true, description: 'When the customer was created upstream (CUSTOMER_CREATED), if that event arrived.' })
  @TimeColumn({ nullable: true })
  createdAt!: Date | null;

  /** Upstream time of the latest CUSTOMER_UPDATED. */
  @Field(() => Date, { nullable: true, description: "When the customer's data last changed upstream (CUSTOMER_UPDATED)." })
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  /** Upstream time of the latest CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED. */
  @Field(() => Date, { nullable: true, description: 'When the communication preferences last changed upstream.' })
  @TimeColumn({ nullable: true })
  communicationPreferencesUpdatedAt!: Date | null;

  /** Upstream time of CUSTOMER_DELETED: set means deleted (the record stays as a tombstone). */
  @Field(() => Date, { nullable: true, description: 'When the customer was deleted upstream; null while not deleted.' })
  @TimeColumn({ nullable: true })
  deletedAt!: Date | null;

  /**
   * Latest check-in and the studio it happened at. Checked in now: lastCheckinAt > lastCheckoutAt.
   * Exposed through customer.resolver.ts, which hides them from tokens that may not see that studio.
   */
  @TimeColumn({ nullable: true })
  lastCheckinAt!: Date | null;

  @Column({ type: 'integer', nullable: true })
  lastCheckinStudioId!: number | null;

  @TimeColumn({ nullable: true })
  lastCheckoutAt!: Date | null;

  // -------------------------------------------------------------------------------------------
  // Access and home studio, from the sister platform's CUSTOMER_* events (customer.projector.ts).
  // -------------------------------------------------------------------------------------------

  /**
   * Upstream time of the first CUSTOMER_ACCESS_DISABLED: set means the customer can no longer be
   * read from the Open API, for good. Nothing re-enables it (no event says access was granted again,
   * and a newer CUSTOMER_UPDATED does not: it would find the read refused all the same); hydration
   * erases the personal data and never reads the customer again.
   */
  @Field(() => Date, {
    nullable: true,
    description:
      "When the operator disabled the customer's access (CUSTOMER_ACCESS_DISABLED): from then on the upstream no longer lets the customer be read, so the personal data is erased and not read again (see `personalDataErasedAt`). Nothing re-enables it. Null while access was never disabled.",
  })
  @TimeColumn({ nullable: true })
  accessDisabledAt!: Date | null;

  /** Upstream time of the latest CUSTOMER_HOME_STUDIO_UPDATED. */
  @Field(() => Date, {
    nullable: true,
    description: 'When the customer last moved to another home studio (the latest CUSTOMER_HOME_STUDIO_UPDATED); null if no move arrived.',
  })
  @TimeColumn({ nullable: true })
  homeStudioUpdatedAt!: Date | null;

  /** What `homeStudioUpstreamId` and `previousHomeStudioUpstreamId` follow (customer.projector.ts `eventOrder`); never exposed. */
  @Column({ type: 'text', nullable: true })
  homeStudioOrder!: string | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'The upstream id of the home studio the customer left in their latest move (`sourceStudioId` of the latest CUSTOMER_HOME_STUDIO_UPDATED); null if no move arrived.',
  })
  @IdColumn({ nullable: true })
  previousHomeStudioUpstreamId!: number | null;

  /** Upstream time of the latest CUSTOMER_CHECKIN_STUDIOS_UPDATED. */
  @Field(() => Date, {
    nullable: true,
    description:
      'When the studios the customer may check in at last changed (the latest CUSTOMER_CHECKIN_STUDIOS_UPDATED); null if that never arrived.',
  })
  @TimeColumn({ nullable: true })
  checkinStudiosUpdatedAt!: Date | null;

  /** What `checkinStudiosContractId` follows; never exposed. */
  @Column({ type: 'text', nullable: true })
  checkinStudiosOrder!: string | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'The upstream id of the contract named by the latest CUSTOMER_CHECKIN_STUDIOS_UPDATED (the contract that grants the studios); null if that never arrived.',
  })
  @IdColumn({ nullable: true })
  checkinStudiosContractId!: number | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'When the customer was last given an access medium (a card, tag or similar; CUSTOMER_ACCESS_MEDIUM_CREATED); null if never.',
  })
  @TimeColumn({ nullable: true })
  lastAccessMediumCreatedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: "When one of the customer's access media last changed (CUSTOMER_ACCESS_MEDIUM_UPDATED); null if never.",
  })
  @TimeColumn({ nullable: true })
  lastAccessMediumUpdatedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: "When one of the customer's access media was last taken away (CUSTOMER_ACCESS_MEDIUM_DELETED); null if never.",
  })
  @TimeColumn({ nullable: true })
  lastAccessMediumDeletedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When an access restriction was last set on the customer (CUSTOMER_ACCESS_RESTRICTION_CREATED); null if never.',
  })
  @TimeColumn({ nullable: true })
  lastAccessRestrictionCreatedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When an access restriction on the customer was last lifted (CUSTOMER_ACCESS_RESTRICTION_DELETED); null if never.',
  })
  @TimeColumn({ nullable: true })
  lastAccessRestrictionDeletedAt!: Date | null;

  // -------------------------------------------------------------------------------------------
  // Hydrated from the Open API (`GET /v1/customers/{id}`); null until the first hydration.
  // Personal data (names, contact, birth date, gender, address, language, customer number) is
  // nulled again when the upstream says the customer is gone (404/403) or deleted them.
  // -------------------------------------------------------------------------------------------

  /** MEMBER, PROSPECT, FORMER_MEMBER, ... (open set). */
  @Field(() => String, {
    nullable: true,
    description:
      "The customer's status in the operator's system: MEMBER, PROSPECT or FORMER_MEMBER (new values may appear). From the Open API; null until hydrated.",
  })
  @Column({ type: 'text', nullable: true })
  status!: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'True when the operator refuses the customer entry to its studios (`accessRefusal`). From the Open API; null until hydrated.',
  })
  @Column({ type: 'boolean', nullable: true })
  accessRefused!: boolean | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description:
      'The customer number the operator shows on cards and invoices. Personal data: null until hydrated, and again once the customer is gone.',
  })
  @Column({ type: 'text', nullable: true })
  customerNumber!: string | null;

  @Field(() => ID, {
    nullable: true,
    description:
      "The upstream id of the customer's home studio (the operator's studio id, not ours): `targetStudioId` of the latest CUSTOMER_HOME_STUDIO_UPDATED, or the Open API's answer when that was read later. Null until either arrived.",
  })
  @IdColumn({ nullable: true })
  homeStudioUpstreamId!: number | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "When the customer was created in the operator's system (`createdDateTime` of the Open API), whether or not CUSTOMER_CREATED arrived.",
  })
  @TimeColumn({ nullable: true })
  registeredAt!: Date | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description: 'First name. Personal data: null until hydrated, and again once the customer is gone.',
  })
  @Column({ type: 'text', nullable: true })
  firstName!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description: 'Last name. Personal data: null until hydrated, and again once the customer is gone.',
  })
  @Column({ type: 'text', nullable: true })
  lastName!: string | null;

  /** ISO calendar date. */
  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description:
      'Date of birth as an ISO calendar date (`1990-04-01`). Personal data: null until hydrated, and again once the customer is gone.',
  })
  @Column({ type: 'text', nullable: true })
  dateOfBirth!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description:
      'MALE, FEMALE or UNISEX, as the operator recorded it. Personal data: null until hydrated, and again once the customer is gone.',
  })
  @Column({ type: 'text', nullable: true })
  gender!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description: 'E-mail address. Personal data: null until hydrated, and again once the customer is gone.',
  })
  @Column({ type: 'text', nullable: true })
  email!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description:
      'Private (landline) phone number, as entered upstream. Personal data: null until hydrated, and again once the customer is gone.',
  })
  @Column({ type: 'text', nullable: true })
  phonePrivate!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description: 'Mobile phone number, as entered upstream. Personal data: null until hydrated, and again once the customer is gone.',
  })
  @Column({ type: 'text', nullable: true })
  phoneMobile!: string | null;

  /** Postal address, exposed as `address` (customer-hydrated-fields.resolver.ts). */
  @Column({ type: 'text', nullable: true })
  addressStreet!: string | null;

  @Column({ type: 'text', nullable: true })
  addressHouseNumber!: string | null;

  @Column({ type: 'text', nullable: true })
  addressZipCode!: string | null;

  @Column({ type: 'text', nullable: true })
  addressCity!: string | null;

  @Column({ type: 'text', nullable: true })
  addressCountry!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description:
      'The language the customer prefers to be addressed in, as a language code with an optional country (`de_DE`, `en`). Personal data: null until hydrated, and again once the customer is gone.',
  })
  @Column({ type: 'text', nullable: true })
  preferredLanguage!: string | null;

  /**
   * Lower-cased copies for prefix search (customer-search.ts): "first last", the last name, the e-mail
   * and the customer number. Written with the hydrated values, nulled with them; never exposed.
   */
  @Column({ type: 'text', nullable: true })
  searchName!: string | null;

  @Column({ type: 'text', nullable: true })
  searchLastName!: string | null;

  @Column({ type: 'text', nullable: true })
  searchEmail!: string | null;

  @Column({ type: 'text', nullable: true })
  searchNumber!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the fields above were last read from the upstream Open API; null if never.' })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'When this service erased the personal data because the upstream deleted the customer or no longer lets it be read (404/403); null while it holds none erased. The record itself stays, as a tombstone.',
  })
  @TimeColumn({ nullable: true })
  personalDataErasedAt!: Date | null;

  /** When `communicationPreferences` were last read (an empty list is an answer too). */
  @Field(() => Date, {
    nullable: true,
    description: 'When the communication preferences were last read from the upstream Open API; null if never.',
  })
  @TimeColumn({ nullable: true })
  communicationPreferencesHydratedAt!: Date | null;
}
