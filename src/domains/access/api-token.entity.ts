import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimeColumn } from '../../db/columns.js';

export const TOKEN_ROLES = ['partner', 'app'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/**
 * A bearer token for the API. Only its SHA-256 digest is stored: the token is printed once when
 * it is created and cannot be read back. `studioIds` null means every studio.
 */
@Entity('api_tokens')
export class ApiToken {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  role!: TokenRole;

  /** JSON array of studio ids, or null for all studios. */
  @Column({ type: 'simple-json', nullable: true })
  studioIds!: number[] | null;

  @Index('api_tokens_hash', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  tokenHash!: string;

  @TimeColumn()
  createdAt!: Date;

  @TimeColumn({ nullable: true })
  revokedAt!: Date | null;
}
