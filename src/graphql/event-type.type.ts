import { Field, ObjectType } from 'type-graphql';

@ObjectType({
  description:
    'An upstream webhook event type that this service understands and turns into records. Other types are still received and logged, but change no record.',
})
export class EventType {
  @Field(() => String, { description: "The upstream name, as sent in a webhook's `payload[].type`, e.g. `CUSTOMER_CREATED`." })
  name!: string;

  @Field(() => String, {
    description: "What the webhook's `entityId` identifies for this type, e.g. `customer` or `class slot`.",
  })
  entity!: string;

  @Field(() => String, { description: 'What happened upstream, and which `content` field (if any) the event carries.' })
  description!: string;
}
