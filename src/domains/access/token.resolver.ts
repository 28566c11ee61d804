import { Arg, Ctx, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../api/context.js';
import { ErrorCode, clientError } from '../../api/errors.js';
import { isOwnId } from '../../api/pagination.js';
import { requireAdmin } from './admin-only.js';
import { ApiToken, TokenPermissionEnum, TokenRoleEnum } from './api-token.entity.js';
import {
  TokenInputError,
  TokenNotFoundError,
  TokenService,
  tokenHasPersonalData,
  tokenInactive,
  type TokenFieldNames,
} from './token.service.js';

@InputType({ description: 'A new API token. Give exactly one of `studioIds` and `allStudios`.' })
export class CreateApiTokenInput {
  @Field(() => TokenRoleEnum)
  role!: TokenRoleEnum;

  @Field(() => [ID], { nullable: true, description: 'The studios the token may see.' })
  studioIds?: number[] | null;

  @Field(() => Boolean, { nullable: true, description: 'true: every studio, including those registered later.' })
  allStudios?: boolean | null;

  @Field(() => Date, { nullable: true, description: 'When the token stops working (in the future); omitted or null: never.' })
  expiresAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'A short name (at most 200 characters); default "<role> token".' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'A free note (at most 1000 characters): who has it, what for.' })
  note?: string | null;

  @Field(() => [TokenPermissionEnum], { nullable: true, description: 'What the token may do beyond its role; none by default.' })
  permissions?: TokenPermissionEnum[] | null;
}

@ObjectType({ description: 'A token and its secret: the only time the secret is shown. Store it now.' })
export class ApiTokenSecret {
  @Field(() => ApiToken)
  token!: ApiToken;

  @Field({
    description: 'The bearer token (`Authorization: Bearer <secret>`). Only its SHA-256 digest is stored: it cannot be shown again.',
  })
  secret!: string;
}

/** How the API names `createApiToken`'s inputs in its BAD_USER_INPUT messages. */
const API_FIELD_NAMES: TokenFieldNames = {
  role: 'input.role',
  studios: 'input.studioIds',
  expiresAt: 'input.expiresAt',
  name: 'input.name',
  note: 'input.note',
  permissions: 'input.permissions',
};

/** A mistake of the caller's: BAD_USER_INPUT (NOT_FOUND for an unknown id), with the service's message. */
async function asClientError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof TokenInputError)) throw error;
    throw clientError(error instanceof TokenNotFoundError ? ErrorCode.NOT_FOUND : ErrorCode.BAD_USER_INPUT, error.message);
  }
}

function tokenId(id: string): number {
  if (!isOwnId(id))
    throw clientError(ErrorCode.BAD_USER_INPUT, `id: expected a token id (an integer such as "1"), got ${JSON.stringify(id)}`);
  return Number(id);
}

/**
 * Token management for admins: create, list, revoke and rotate API tokens. Any other viewer gets
 * FORBIDDEN, whatever its studios. The secret is returned by `createApiToken` and `rotateApiToken`
 * only; listings show neither it nor its digest.
 */
@Resolver(() => ApiToken)
export class ApiTokenResolver {
  @Query(() => [ApiToken], {
    description:
      'Admin only. Every API token, oldest first, revoked and expired ones included (never a secret). Tokens are few: no paging.',
  })
  apiTokens(@Ctx() context: GraphQLContext): Promise<ApiToken[]> {
    requireAdmin(context, 'apiTokens');
    return new TokenService(context.dataSource).list();
  }

  @Mutation(() => ApiTokenSecret, { description: 'Admin only. Mints a partner or app token; the secret is in the answer, and only there.' })
  async createApiToken(
    @Arg('input', () => CreateApiTokenInput) input: CreateApiTokenInput,
    @Ctx() context: GraphQLContext,
  ): Promise<ApiTokenSecret> {
    requireAdmin(context, 'createApiToken');
    const some = input.studioIds != null;
    if (some === (input.allStudios === true)) {
      throw clientError(
        ErrorCode.BAD_USER_INPUT,
        'input.studioIds: give either studioIds (at least one) or allStudios: true, not both and not neither',
      );
    }
    const { token, record } = await asClientError(() =>
      new TokenService(context.dataSource).create(
        {
          role: input.role,
          studios: some ? input.studioIds! : 'all',
          expiresAt: input.expiresAt ?? null,
          name: input.name,
          note: input.note,
          permissions: input.permissions ?? [],
        },
        API_FIELD_NAMES,
      ),
    );
    return { token: record, secret: token };
  }

  @Mutation(() => ApiToken, {
    description:
      'Admin only. The token stops working at once (open WebSockets are closed with 4403 within WS_TOKEN_RECHECK_MS). Revoking twice changes nothing. NOT_FOUND for an unknown id.',
  })
  revokeApiToken(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<ApiToken> {
    requireAdmin(context, 'revokeApiToken');
    return asClientError(() => new TokenService(context.dataSource).revoke(tokenId(id)));
  }

  @Mutation(() => ApiTokenSecret, {
    description:
      'Admin only. A new secret for the token, everything else kept (id, role, studios, permissions, expiry); the old secret is refused at once, and its open WebSockets are closed with 4403. BAD_USER_INPUT for a revoked or expired token, NOT_FOUND for an unknown id.',
  })
  async rotateApiToken(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<ApiTokenSecret> {
    requireAdmin(context, 'rotateApiToken');
    const { token, record } = await asClientError(() => new TokenService(context.dataSource).rotate(tokenId(id)));
    return { token: record, secret: token };
  }

  @FieldResolver(() => [TokenPermissionEnum], { description: 'What the token may do beyond its role.' })
  permissions(@Root() token: ApiToken): TokenPermissionEnum[] {
    return (token.permissions ?? []) as TokenPermissionEnum[];
  }

  @FieldResolver(() => Boolean, {
    description: 'True when the token may read personal fields: app tokens always, partner tokens with PERSONAL_DATA.',
  })
  personalData(@Root() token: ApiToken): boolean {
    return tokenHasPersonalData(token);
  }

  @FieldResolver(() => Boolean, { description: 'True while the token works: not revoked and not expired.' })
  active(@Root() token: ApiToken): boolean {
    return !tokenInactive(token);
  }
}
