import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimeColumn } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/** The roles an API token can have (`admin` is ADMIN_TOKEN's alone; `member` comes with a JWT). */
export const TOKEN_ROLES = ['partner', 'app'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** What a token may do beyond its role. `personalData`: a partner token may read personal fields. */
export const TOKEN_PERMISSIONS = ['personalData'] as const;
export type TokenPermission = (typeof TOKEN_PERMISSIONS)[number];

/** The GraphQL enums of roles and permissions (values as stored: `partner`, `personalData`). */
export enum TokenRoleEnum {
  PARTNER = 'partner',
  APP = 'app',
}
registerEnumType(TokenRoleEnum, {
  name: 'TokenRole',
  description: 'What an API token is for (the roles table of the README).',
  valuesConfig: {
    PARTNER: { description: 'Read-only, scoped to its studios; personal fields only with the PERSONAL_DATA permission.' },
    APP: { description: "A studio's own front end: scoped to its studios, personal fields included." },
  },
});

export enum TokenPermissionEnum {
  PERSONAL_DATA = 'personalData',
}
registerEnumType(TokenPermissionEnum, {
  name: 'TokenPermission',
  description: 'What a token may do beyond its role.',
  valuesConfig: {
    PERSONAL_DATA: {
      description:
        'Read personal fields (names, contact details, address, birth date, ...). App tokens always may; partner tokens only with it.',
    },
  },
});

/**
 * A bearer token for the API. Only its SHA-256 digest is stored: the token is shown once when it
 * is created (or rotated) and cannot be read back. `studioIds` null means every studio.
 */
@ObjectType('ApiToken', {
  simpleResolvers: true,
  description: 'An API token (admin only). The secret itself is never shown again after `createApiToken` / `rotateApiToken`.',
})
@Entity(TABLES.api_tokens)
export class ApiToken {
  @Field(() => ID, { description: 'Our id for the token (stable across rotations).' })
  @PrimaryGeneratedColumn()
  id!: number;

  @Field({ description: 'A short name, shown in lists and logs ("CRM sync").' })
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Field(() => String, { nullable: true, description: 'A free note: who has it, what for, whom to ask before revoking it.' })
  @Column({ type: 'varchar', length: 1000, nullable: true })
  note!: string | null;

  @Field(() => TokenRoleEnum)
  @Column({ type: 'varchar', length: 16 })
  role!: TokenRole;

  /** JSON array of studio ids, or null for all studios. */
  @Field(() => [ID], { nullable: true, description: 'The studios the token may see; null: every studio.' })
  @Column({ type: 'simple-json', nullable: true })
  studioIds!: number[] | null;

  /** JSON array of permissions; null (never written since migration 1764000000007) reads as none. */
  @Column({ type: 'simple-json', nullable: true })
  permissions!: TokenPermission[] | null;

  @Index('api_tokens_hash', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  tokenHash!: string;

  @Field(() => Date)
  @TimeColumn()
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the token stops working; null: never.' })
  @TimeColumn({ nullable: true })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the secret was last replaced (`rotateApiToken`); null: never.' })
  @TimeColumn({ nullable: true })
  rotatedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the token was revoked; null while it is not.' })
  @TimeColumn({ nullable: true })
  revokedAt!: Date | null;
}
