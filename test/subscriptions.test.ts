import { randomUUID } from 'node:crypto';
import { getNamedType, isObjectType } from 'graphql';
import { TokenService } from '../src/domains/access/token.service.js';
import { buildGraphQLSchema } from '../src/graphql/schema.js';
import { KNOWN_EVENT_TYPES, type KnownEventType } from '../src/events/event-catalog.js';
import { EVENT_SUBSCRIPTIONS } from '../src/realtime/event-type-fields.subscription.js';
import { sendConcurrently, type WebhookBody } from './support/child.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until, type Subscription, type TestClient } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-03-02T07:00:00Z');
const at = (minutes: number) => T0 + minutes * 60_000;
const iso = (minutes: number) => new Date(at(minutes)).toISOString();
const EVENT = 'seq type entityId studioId known content occurredAt';

/** The records each payload type carries, selected with the fields a test can check. */
const RECORDS: Readonly<Record<string, string>> = {
  VisitEventPayload: 'visit { id checkinAt checkoutAt studioId customerId } customer { customerId checkedIn }',
  AutomaticCheckoutEventPayload: 'visits { checkinAt checkoutAt customerId }',
  CustomerEventPayload: 'customer { customerId createdAt updatedAt deletedAt deleted communicationPreferencesUpdatedAt }',
  ContractEventPayload: 'contract { contractId customerId createdAt updatedAt } customer { customerId }',
  ContractIdlePeriodEventPayload:
    'idlePeriod { idlePeriodId contractId customerId status idlePeriodAmount } contract { contractId } customer { customerId }',
  ContractAdditionalModuleEventPayload:
    'additionalModule { moduleContractId contractId customerId status } contract { contractId } customer { customerId }',
  AggregatorMembershipEventPayload: 'aggregatorMembership { aggregatorId customerId } customer { customerId }',
  ClassBookingEventPayload: 'classBooking { bookingId status createdAt updatedAt cancelledAt }',
  AppointmentBookingEventPayload: 'appointmentBooking { bookingId status createdAt updatedAt cancelledAt }',
  ClassSlotEventPayload: 'classSlot { slotId classId status }',
  DeviceEventPayload: 'device { deviceId createdAt }',
  DebtCollectionRunEventPayload: 'debtCollectionRun { runId createdAt }',
  TaxAdvisorExportEventPayload: 'taxAdvisorExport { exportId createdAt }',
  StudioEventPayload: 'studio { name openingHoursUpdatedAt additionalInformationFieldsUpdatedAt }',
  DebtCollectionCaseEventPayload:
    'debtCollectionCase { caseId caseIdSource agencyDebtCollectionCaseId collectionCaseId latestAdjustmentRequestId latestAdjustmentRequestAt }',
  DebtCollectionConfigurationEventPayload: 'debtCollectionConfiguration { latestEntityId lastEventAt }',
  EmployeeEventPayload: 'employee { employeeId createdAt updatedAt deletedAt deleted }',
};

/** What to post for each type (entityId, content) and the records expected with it. */
const CASES: {
  readonly [T in KnownEventType]: {
    entityId: number;
    content?: Record<string, unknown>;
    before?: KnownEventType;
    records: Record<string, unknown>;
  };
} = {
  CUSTOMER_CHECKIN: {
    entityId: 101,
    records: { visit: { checkinAt: iso(5), checkoutAt: null, customerId: '101' }, customer: { customerId: '101', checkedIn: true } },
  },
  CUSTOMER_CHECKOUT: {
    entityId: 102,
    before: 'CUSTOMER_CHECKIN',
    records: { visit: { checkinAt: iso(4), checkoutAt: iso(5), customerId: '102' }, customer: { customerId: '102', checkedIn: false } },
  },
  // entityId is the studio; the customer (also 121 here) checked in before and is closed at iso(5).
  AUTOMATIC_CUSTOMER_CHECKOUT: {
    entityId: 121,
    content: { checkouts: [{ customerId: 121, checkoutTime: iso(5) }] },
    before: 'CUSTOMER_CHECKIN',
    records: { visits: [{ checkinAt: iso(4), checkoutAt: iso(5), customerId: '121' }] },
  },
  CUSTOMER_CREATED: {
    entityId: 103,
    records: {
      customer: {
        customerId: '103',
        createdAt: iso(5),
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  CUSTOMER_UPDATED: {
    entityId: 104,
    records: {
      customer: {
        customerId: '104',
        createdAt: null,
        updatedAt: iso(5),
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  CUSTOMER_DELETED: {
    entityId: 105,
    records: {
      customer: {
        customerId: '105',
        createdAt: null,
        updatedAt: null,
        deletedAt: iso(5),
        deleted: true,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: {
    entityId: 106,
    records: {
      customer: {
        customerId: '106',
        createdAt: null,
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: iso(5),
      },
    },
  },
  CONTRACT_CREATED: {
    entityId: 107,
    content: { contractId: 9107 },
    records: { contract: { contractId: '9107', customerId: '107', createdAt: iso(5), updatedAt: null }, customer: { customerId: '107' } },
  },
  CONTRACT_UPDATED: {
    entityId: 108,
    content: { contractId: 9108 },
    before: 'CONTRACT_CREATED',
    records: { contract: { contractId: '9108', customerId: '108', createdAt: iso(4), updatedAt: iso(5) }, customer: { customerId: '108' } },
  },
  CONTRACT_CANCELLED: {
    entityId: 170,
    content: { contractId: 9170 },
    before: 'CONTRACT_CREATED',
    records: { contract: { contractId: '9170', customerId: '170', createdAt: iso(4), updatedAt: null }, customer: { customerId: '170' } },
  },
  CONTRACT_IDLE_PERIOD_CREATED: {
    entityId: 171,
    content: { contractId: 9171, idlePeriodId: 8171, idlePeriodAmount: 2 },
    records: {
      idlePeriod: { idlePeriodId: '8171', contractId: '9171', customerId: '171', status: 'ACTIVE', idlePeriodAmount: 2 },
      contract: { contractId: '9171' },
      customer: { customerId: '171' },
    },
  },
  CONTRACT_IDLE_PERIOD_UPDATED: {
    entityId: 172,
    content: { contractId: 9172, idlePeriodId: 8172 },
    records: {
      idlePeriod: { idlePeriodId: '8172', contractId: '9172', customerId: '172', status: 'ACTIVE', idlePeriodAmount: null },
      contract: { contractId: '9172' },
      customer: { customerId: '172' },
    },
  },
  CONTRACT_IDLE_PERIOD_CANCELLED: {
    entityId: 173,
    content: { contractId: 9173, idlePeriodId: 8173, idlePeriodAmount: 1 },
    before: 'CONTRACT_IDLE_PERIOD_CREATED',
    records: {
      idlePeriod: { idlePeriodId: '8173', contractId: '9173', customerId: '173', status: 'CANCELLED', idlePeriodAmount: 1 },
      contract: { contractId: '9173' },
      customer: { customerId: '173' },
    },
  },
  CONTRACT_ADDITIONAL_MODULE_CREATED: {
    entityId: 174,
    content: { contractId: 9174, moduleContractId: 7174 },
    records: {
      additionalModule: { moduleContractId: '7174', contractId: '9174', customerId: '174', status: 'ACTIVE' },
      contract: { contractId: '9174' },
      customer: { customerId: '174' },
    },
  },
  CONTRACT_ADDITIONAL_MODULE_UPDATED: {
    entityId: 175,
    content: { contractId: 9175, moduleContractId: 7175 },
    records: {
      additionalModule: { moduleContractId: '7175', contractId: '9175', customerId: '175', status: 'ACTIVE' },
      contract: { contractId: '9175' },
      customer: { customerId: '175' },
    },
  },
  CONTRACT_ADDITIONAL_MODULE_DELETED: {
    entityId: 176,
    content: { contractId: 9176, moduleContractId: 7176 },
    before: 'CONTRACT_ADDITIONAL_MODULE_CREATED',
    records: {
      additionalModule: { moduleContractId: '7176', contractId: '9176', customerId: '176', status: 'DELETED' },
      contract: { contractId: '9176' },
      customer: { customerId: '176' },
    },
  },
  CONTRACT_ADDITIONAL_MODULE_CANCELLED: {
    entityId: 177,
    content: { contractId: 9177, moduleContractId: 7177 },
    records: {
      additionalModule: { moduleContractId: '7177', contractId: '9177', customerId: '177', status: 'CANCELLED' },
      contract: { contractId: '9177' },
      customer: { customerId: '177' },
    },
  },
  AGGREGATOR_MEMBER_CREATED: {
    entityId: 109,
    content: { aggregatorId: 'usc-109' },
    records: { aggregatorMembership: { aggregatorId: 'usc-109', customerId: '109' }, customer: { customerId: '109' } },
  },
  CLASS_BOOKING_CREATED: {
    entityId: 110,
    records: { classBooking: { bookingId: '110', status: 'BOOKED', createdAt: iso(5), updatedAt: null, cancelledAt: null } },
  },
  CLASS_BOOKING_UPDATED: {
    entityId: 111,
    records: { classBooking: { bookingId: '111', status: 'BOOKED', createdAt: null, updatedAt: iso(5), cancelledAt: null } },
  },
  CLASS_BOOKING_CANCELLED: {
    entityId: 112,
    before: 'CLASS_BOOKING_CREATED',
    records: { classBooking: { bookingId: '112', status: 'CANCELLED', createdAt: iso(4), updatedAt: null, cancelledAt: iso(5) } },
  },
  APPOINTMENT_BOOKING_CREATED: {
    entityId: 113,
    records: { appointmentBooking: { bookingId: '113', status: 'BOOKED', createdAt: iso(5), updatedAt: null, cancelledAt: null } },
  },
  APPOINTMENT_BOOKING_UPDATED: {
    entityId: 114,
    records: { appointmentBooking: { bookingId: '114', status: 'BOOKED', createdAt: null, updatedAt: iso(5), cancelledAt: null } },
  },
  APPOINTMENT_BOOKING_CANCELLED: {
    entityId: 115,
    records: { appointmentBooking: { bookingId: '115', status: 'CANCELLED', createdAt: null, updatedAt: null, cancelledAt: iso(5) } },
  },
  CLASS_SLOT_UPDATED: {
    entityId: 116,
    content: { classId: 516 },
    records: { classSlot: { slotId: '116', classId: '516', status: 'SCHEDULED' } },
  },
  CLASS_SLOT_CANCELLED: {
    entityId: 117,
    content: { classId: 517 },
    records: { classSlot: { slotId: '117', classId: '517', status: 'CANCELLED' } },
  },
  DEVICE_CREATED: { entityId: 118, records: { device: { deviceId: '118', createdAt: iso(5) } } },
  FINANCE_DEBT_COLLECTION_RUN_CREATED: { entityId: 119, records: { debtCollectionRun: { runId: '119', createdAt: iso(5) } } },
  TAX_ADVISOR_EXPORT_CREATED: { entityId: 120, records: { taxAdvisorExport: { exportId: '120', createdAt: iso(5) } } },
  CUSTOMER_ACCESS_DISABLED: {
    entityId: 131,
    records: {
      customer: {
        customerId: '131',
        createdAt: null,
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  CUSTOMER_HOME_STUDIO_UPDATED: {
    entityId: 132,
    content: { sourceStudioId: 7, targetStudioId: 8 },
    records: {
      customer: {
        customerId: '132',
        createdAt: null,
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  CUSTOMER_CHECKIN_STUDIOS_UPDATED: {
    entityId: 133,
    content: { contractId: 9133 },
    records: {
      customer: {
        customerId: '133',
        createdAt: null,
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  CUSTOMER_ACCESS_MEDIUM_CREATED: {
    entityId: 134,
    records: {
      customer: {
        customerId: '134',
        createdAt: null,
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  CUSTOMER_ACCESS_MEDIUM_UPDATED: {
    entityId: 135,
    records: {
      customer: {
        customerId: '135',
        createdAt: null,
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  CUSTOMER_ACCESS_MEDIUM_DELETED: {
    entityId: 136,
    records: {
      customer: {
        customerId: '136',
        createdAt: null,
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  CUSTOMER_ACCESS_RESTRICTION_CREATED: {
    entityId: 137,
    records: {
      customer: {
        customerId: '137',
        createdAt: null,
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  CUSTOMER_ACCESS_RESTRICTION_DELETED: {
    entityId: 138,
    records: {
      customer: {
        customerId: '138',
        createdAt: null,
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        communicationPreferencesUpdatedAt: null,
      },
    },
  },
  // entityId is the upstream studio id; the studio is the one whose key delivered it (Alpha).
  STUDIO_OPENING_HOURS_UPDATED: { entityId: 122, records: { studio: { name: 'Alpha', openingHoursUpdatedAt: iso(5) } } },
  ADDITIONAL_INFORMATION_FIELDS_UPDATED: {
    entityId: 122,
    records: { studio: { name: 'Alpha', additionalInformationFieldsUpdatedAt: iso(5) } },
  },
  FINANCE_DEBT_COLLECTION_CASE_UPDATED: {
    entityId: 123,
    content: { agencyDebtCollectionCaseId: 8123, collectionCaseId: 9123 },
    records: {
      debtCollectionCase: {
        caseId: '8123',
        caseIdSource: 'AGENCY',
        agencyDebtCollectionCaseId: '8123',
        collectionCaseId: '9123',
        latestAdjustmentRequestId: '123',
        latestAdjustmentRequestAt: iso(5),
      },
    },
  },
  FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: {
    entityId: 124,
    records: { debtCollectionConfiguration: { latestEntityId: '124', lastEventAt: iso(5) } },
  },
  EMPLOYEE_CREATED: {
    entityId: 161,
    records: { employee: { employeeId: '161', createdAt: iso(5), updatedAt: null, deletedAt: null, deleted: false } },
  },
  EMPLOYEE_UPDATED: {
    entityId: 162,
    before: 'EMPLOYEE_CREATED',
    records: { employee: { employeeId: '162', createdAt: iso(4), updatedAt: iso(5), deletedAt: null, deleted: false } },
  },
  EMPLOYEE_DELETED: {
    entityId: 163,
    records: { employee: { employeeId: '163', createdAt: null, updatedAt: null, deletedAt: iso(5), deleted: true } },
  },
};

const payloadQuery = (type: KnownEventType, args = '') => {
  const { field, family } = EVENT_SUBSCRIPTIONS[type];
  const records = RECORDS[family.payload.name];
  if (records === undefined) throw new Error(`RECORDS: no selection for ${family.payload.name}`);
  return `subscription { ${field}${args} { event { ${EVENT} } ${records} } }`;
};

describe.each(databaseKinds())('subscriptions (%s)', (kind) => {
  let server: TestServer;
  /** Two studios of one operator, and one of another. */
  let a: { id: number; webhookKey: string };
  let b: { id: number; webhookKey: string };
  let partnerA: string;
  let admin: TestClient;

  const post = async (key: string, body: ReturnType<typeof delivery>) => {
    const response = await server.post(key, body);
    expect(response).toMatchObject({ status: 200, body: { stored: body.payload.length } });
  };
  const lastSeq = async () =>
    Number((await server.sql<{ max: string | number | null }>('SELECT MAX(seq) AS "max" FROM events'))[0]?.max ?? 0);
  /** Resolves once `count` subscriptions listen to the feed (subscribe messages are handled asynchronously). */
  const listening = (count: number) => until(() => server.app.subscriptions.subscriptions >= count, 5000, `${count} subscriptions`);

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    a = await server.addStudio({ name: 'Alpha', tenantUrl: 'https://acme.example/v1' });
    b = await server.addStudio({ name: 'Beta', tenantUrl: 'https://acme.example/v1' });
    partnerA = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [a.id] })).token;
  });
  beforeEach(async () => {
    admin = connect(server.app.url, ADMIN_TOKEN);
    await admin.connected;
  });
  afterEach(async () => {
    await disposeClients();
    await until(() => server.app.subscriptions.subscriptions === 0, 5000, 'every subscription to end');
  });
  afterAll(() => server.stop());

  describe('one field per event type', () => {
    it('names a field for every known type, each once, and describes every field, argument and payload field', async () => {
      const fields = KNOWN_EVENT_TYPES.map((type) => EVENT_SUBSCRIPTIONS[type].field);
      expect(new Set(fields).size).toBe(KNOWN_EVENT_TYPES.length);
      const subscription = (await buildGraphQLSchema()).getSubscriptionType()!.getFields();
      expect(Object.keys(subscription).sort()).toEqual([...fields, 'events', 'occupancyChanged', 'recordHydrated'].sort());
      const undescribed: string[] = [];
      for (const field of Object.values(subscription)) {
        if (!field.description) undescribed.push(field.name);
        for (const arg of field.args) if (!arg.description) undescribed.push(`${field.name}(${arg.name})`);
        const payload = getNamedType(field.type);
        if (!isObjectType(payload)) continue;
        if (!payload.description) undescribed.push(payload.name);
        for (const inner of Object.values(payload.getFields())) if (!inner.description) undescribed.push(`${payload.name}.${inner.name}`);
      }
      expect(undescribed).toEqual([]);
    });

    it.each([...KNOWN_EVENT_TYPES])('%s: the subscriber gets the event with its records as they stand after it', async (type) => {
      const spec = CASES[type];
      if (spec.before)
        await post(
          a.webhookKey,
          delivery(spec.entityId, { type: spec.before, timestamp: at(4), ...(spec.content ? { content: spec.content } : {}) }),
        );
      const subscription = subscribe(admin, payloadQuery(type));
      await listening(1);
      // An event of another type first: it must not reach this subscription.
      const other = type === 'DEVICE_CREATED' ? 'TAX_ADVISOR_EXPORT_CREATED' : 'DEVICE_CREATED';
      await post(a.webhookKey, delivery(900, { type: other, timestamp: at(1) }));
      await post(a.webhookKey, delivery(spec.entityId, { type, timestamp: at(5), ...(spec.content ? { content: spec.content } : {}) }));
      const seq = await lastSeq();
      const [result] = await subscription.take(1);
      expect(result).toEqual({
        data: {
          [EVENT_SUBSCRIPTIONS[type].field]: {
            event: {
              seq: String(seq),
              type,
              entityId: String(spec.entityId),
              studioId: String(a.id),
              known: true,
              content: spec.content ?? null,
              occurredAt: iso(5),
            },
            ...Object.fromEntries(
              Object.entries(spec.records).map(([name, record]) => [
                name,
                Array.isArray(record) ? record : expect.objectContaining(record as object),
              ]),
            ),
          },
        },
      });
    });
  });

  describe('records', () => {
    it('are loaded once per event for all the subscribers of an instance', async () => {
      const clients = [admin, connect(server.app.url, ADMIN_TOKEN), connect(server.app.url, partnerA), connect(server.app.url, partnerA)];
      const subscriptions = clients.map((client) =>
        subscribe(client, 'subscription { contractCreated { event { seq } contract { contractId } customer { customerId } } }'),
      );
      await listening(clients.length);
      const spy = jest.spyOn(server.app.dataSource.logger, 'logQuery');
      try {
        await post(a.webhookKey, delivery(230, { type: 'CONTRACT_CREATED', timestamp: at(1), content: { contractId: 7230 } }));
        for (const subscription of subscriptions) {
          expect((await subscription.take(1))[0]!.data!['contractCreated']).toMatchObject({
            contract: { contractId: '7230' },
            customer: { customerId: '230' },
          });
        }
        const statements = spy.mock.calls.map(([sql]) => String(sql));
        expect(statements.filter((sql) => /FROM "contracts"/.test(sql))).toHaveLength(1);
        expect(statements.filter((sql) => /FROM "customers"/.test(sql))).toHaveLength(1);
      } finally {
        spy.mockRestore();
      }
    });

    it('are read only as far as a subscription selects them: none for bare events, one record for one', async () => {
      const statements = async (body: ReturnType<typeof delivery>, read: () => Promise<void>) => {
        const spy = jest.spyOn(server.app.dataSource.logger, 'logQuery');
        try {
          await post(a.webhookKey, body);
          await read();
          const sql = spy.mock.calls.map(([text]) => String(text));
          return {
            visits: sql.filter((text) => /FROM "visits"/.test(text)).length,
            customers: sql.filter((text) => /FROM "customers"/.test(text)).length,
          };
        } finally {
          spy.mockRestore();
        }
      };
      const clients = [admin, connect(server.app.url, ADMIN_TOKEN)];
      const bare = subscribe(clients[0]!, 'subscription { customerCheckedIn { event { seq type } } }');
      // A named fragment names the payload's fields as a plain selection does.
      const customers = subscribe(
        clients[1]!,
        'subscription { customerCheckedIn { ...C } } fragment C on VisitEventPayload { event { seq } customer { customerId checkedIn } }',
      );
      await listening(2);
      const first = await statements(delivery(231, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) }), async () => {
        const seq = String(await lastSeq());
        expect((await bare.take(1))[0]).toEqual({ data: { customerCheckedIn: { event: { seq, type: 'CUSTOMER_CHECKIN' } } } });
        expect((await customers.take(1))[0]).toEqual({
          data: { customerCheckedIn: { event: { seq }, customer: { customerId: '231', checkedIn: true } } },
        });
      });
      // Nobody selected the visit: not read, after the commit (SQLite) nor inside it (PostgreSQL, record-preload.ts).
      expect(first).toEqual({ visits: 0, customers: 1 });

      // One more subscriber selects the visit and the customer: each record is read once, and shared.
      const both = subscribe(
        connect(server.app.url, ADMIN_TOKEN),
        'subscription { customerCheckedIn { event { seq } ... on VisitEventPayload { visit { customerId checkoutAt } customer { customerId } } } }',
      );
      await listening(3);
      const second = await statements(delivery(232, { type: 'CUSTOMER_CHECKIN', timestamp: at(2) }), async () => {
        const seq = String(await lastSeq());
        expect((await both.take(1))[0]).toEqual({
          data: { customerCheckedIn: { event: { seq }, visit: { customerId: '232', checkoutAt: null }, customer: { customerId: '232' } } },
        });
        expect((await customers.take(2))[1]).toMatchObject({ data: { customerCheckedIn: { customer: { customerId: '232' } } } });
        await bare.take(2);
      });
      expect(second).toEqual({ visits: 1, customers: 1 });
    });
  });

  describe('events', () => {
    it('delivers every type, unknown ones too, in commit order, with the fields of the Event type', async () => {
      const subscription = subscribe(admin, `subscription { events { ${EVENT} uuid position receivedAt studio { name } } }`);
      await listening(1);
      const body = delivery(
        7,
        { type: 'CUSTOMER_CREATED', timestamp: at(1) },
        { type: 'SOMETHING_NEW_UPSTREAM', timestamp: at(2), content: { colour: 'blue' } },
      );
      await post(a.webhookKey, body);
      const seq = await lastSeq();
      const results = await subscription.take(2);
      expect(results.map((r) => r.data!['events'])).toEqual([
        {
          seq: String(seq - 1),
          type: 'CUSTOMER_CREATED',
          entityId: '7',
          studioId: String(a.id),
          known: true,
          content: null,
          occurredAt: iso(1),
          uuid: body.uuid,
          position: 0,
          receivedAt: expect.any(String),
          studio: { name: 'Alpha' },
        },
        {
          seq: String(seq),
          type: 'SOMETHING_NEW_UPSTREAM',
          entityId: '7',
          studioId: String(a.id),
          known: false,
          content: { colour: 'blue' },
          occurredAt: iso(2),
          uuid: body.uuid,
          position: 1,
          receivedAt: expect.any(String),
          studio: { name: 'Alpha' },
        },
      ]);
    });

    it('filters by types, studioIds and entityId on the server', async () => {
      const byType = subscribe(admin, 'subscription { events(types: ["CUSTOMER_UPDATED"]) { type entityId studioId } }');
      const byStudio = subscribe(admin, `subscription { events(studioIds: [${b.id}]) { type entityId studioId } }`);
      const byEntity = subscribe(admin, 'subscription { events(entityId: "31") { type entityId studioId } }');
      await listening(3);
      await post(
        a.webhookKey,
        delivery(30, { type: 'CUSTOMER_CREATED', timestamp: at(1) }, { type: 'CUSTOMER_UPDATED', timestamp: at(2) }),
      );
      await post(b.webhookKey, delivery(31, { type: 'CUSTOMER_CREATED', timestamp: at(3) }));
      await post(a.webhookKey, delivery(31, { type: 'CUSTOMER_DELETED', timestamp: at(4) }));
      await post(b.webhookKey, delivery(32, { type: 'CUSTOMER_UPDATED', timestamp: at(5) }));
      const sentinel = delivery(99, { type: 'DEVICE_CREATED', timestamp: at(6) });
      const all = subscribe(admin, `subscription { events(after: "${await lastSeq()}") { type } }`);
      await post(b.webhookKey, sentinel);
      await all.take(1);
      expect(byType.results.map((r) => r.data!['events'])).toEqual([
        { type: 'CUSTOMER_UPDATED', entityId: '30', studioId: String(a.id) },
        { type: 'CUSTOMER_UPDATED', entityId: '32', studioId: String(b.id) },
      ]);
      expect(byStudio.results.map((r) => r.data!['events'])).toEqual([
        { type: 'CUSTOMER_CREATED', entityId: '31', studioId: String(b.id) },
        { type: 'CUSTOMER_UPDATED', entityId: '32', studioId: String(b.id) },
        { type: 'DEVICE_CREATED', entityId: '99', studioId: String(b.id) },
      ]);
      expect(byEntity.results.map((r) => r.data!['events'])).toEqual([
        { type: 'CUSTOMER_CREATED', entityId: '31', studioId: String(b.id) },
        { type: 'CUSTOMER_DELETED', entityId: '31', studioId: String(a.id) },
      ]);
    });

    it('when an argument is invalid, then BAD_USER_INPUT naming it', async () => {
      for (const [args, message] of [
        ['(after: "yesterday")', 'after:'],
        ['(entityId: "x")', 'entityId:'],
      ] as const) {
        const subscription = subscribe(admin, `subscription { events${args} { seq } }`);
        await subscription.take(1);
        expect(subscription.results[0]!.errors).toEqual([
          expect.objectContaining({ message: expect.stringContaining(message), extensions: { code: 'BAD_USER_INPUT' } }),
        ]);
      }
    });
  });

  describe('per-type filters', () => {
    it('customerIds, contractIds, bookingIds, classIds and slotIds keep only the matching events', async () => {
      const checkins = subscribe(admin, payloadQuery('CUSTOMER_CHECKIN', '(customerIds: ["41"])'));
      const contracts = subscribe(admin, payloadQuery('CONTRACT_CREATED', '(contractIds: ["7002"])'));
      const bookings = subscribe(admin, payloadQuery('CLASS_BOOKING_CREATED', '(bookingIds: ["61"])'));
      const slotsByClass = subscribe(admin, payloadQuery('CLASS_SLOT_UPDATED', '(classIds: ["502"])'));
      const slotsById = subscribe(admin, payloadQuery('CLASS_SLOT_UPDATED', '(slotIds: ["71"])'));
      const byStudio = subscribe(admin, payloadQuery('CUSTOMER_CHECKIN', `(studioIds: [${b.id}])`));
      await listening(6);
      await post(a.webhookKey, delivery(40, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) }));
      await post(a.webhookKey, delivery(41, { type: 'CUSTOMER_CHECKIN', timestamp: at(2) }));
      await post(b.webhookKey, delivery(42, { type: 'CUSTOMER_CHECKIN', timestamp: at(2) }));
      await post(a.webhookKey, delivery(43, { type: 'CONTRACT_CREATED', timestamp: at(3), content: { contractId: 7001 } }));
      await post(a.webhookKey, delivery(44, { type: 'CONTRACT_CREATED', timestamp: at(3), content: { contractId: '7002' } }));
      await post(a.webhookKey, delivery(60, { type: 'CLASS_BOOKING_CREATED', timestamp: at(4) }));
      await post(a.webhookKey, delivery(61, { type: 'CLASS_BOOKING_CREATED', timestamp: at(4) }));
      await post(a.webhookKey, delivery(70, { type: 'CLASS_SLOT_UPDATED', timestamp: at(5), content: { classId: 501 } }));
      await post(a.webhookKey, delivery(71, { type: 'CLASS_SLOT_UPDATED', timestamp: at(5), content: { classId: 502 } }));
      await post(a.webhookKey, delivery(72, { type: 'CLASS_SLOT_UPDATED', timestamp: at(6), content: { classId: 502 } }));
      const entityIds = async (subscription: Subscription<Record<string, any>>, field: string, count: number) =>
        (await subscription.take(count)).map((r) => r.data![field].event.entityId);
      expect(await entityIds(checkins, 'customerCheckedIn', 1)).toEqual(['41']);
      expect(await entityIds(byStudio, 'customerCheckedIn', 1)).toEqual(['42']);
      expect(await entityIds(contracts, 'contractCreated', 1)).toEqual(['44']);
      expect(await entityIds(bookings, 'classBookingCreated', 1)).toEqual(['61']);
      expect(await entityIds(slotsByClass, 'classSlotUpdated', 2)).toEqual(['71', '72']);
      expect(await entityIds(slotsById, 'classSlotUpdated', 1)).toEqual(['71']);
      // Nothing more arrived: every later event of the same subscriptions would come after these.
      expect([checkins, byStudio, contracts, bookings, slotsById].map((s) => s.results.length)).toEqual([1, 1, 1, 1, 1]);
    });
  });

  describe('scope', () => {
    it("a partner token for studio A never receives studio B's events: asking for them is FORBIDDEN, and the rest carries only A's", async () => {
      const partner = connect(server.app.url, partnerA);
      const refused = `studioIds: this token may not see studio ${b.id}`;
      for (const query of [
        `subscription { events(studioIds: [${b.id}]) { seq studioId } }`,
        payloadQuery('CUSTOMER_CHECKIN', `(studioIds: [${b.id}])`),
        `subscription { events(after: "0", studioIds: [${b.id}, ${a.id}]) { studioId } }`,
      ]) {
        const [result] = await subscribe(partner, query).take(1);
        expect(result).toEqual({ errors: [expect.objectContaining({ message: refused, extensions: { code: 'FORBIDDEN' } })] });
      }
      const everything = subscribe(partner, 'subscription { events { seq studioId } }');
      const checkins = subscribe(partner, payloadQuery('CUSTOMER_CHECKIN'));
      const adminAll = subscribe(admin, 'subscription { events { seq studioId } }');
      await listening(3);
      await post(b.webhookKey, delivery(50, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) }));
      await post(b.webhookKey, delivery(51, { type: 'SOMETHING_NEW_UPSTREAM', timestamp: at(2) }));
      await post(a.webhookKey, delivery(52, { type: 'CUSTOMER_CHECKIN', timestamp: at(3) }));
      const seq = await lastSeq();
      await adminAll.take(3);
      // Events arrive in seq order: A's event came last, so anything of B's would have come before it.
      expect((await everything.take(1)).map((r) => r.data!['events'])).toEqual([{ seq: String(seq), studioId: String(a.id) }]);
      expect((await checkins.take(1))[0]!.data!['customerCheckedIn'].event.seq).toBe(String(seq));
      expect(everything.results).toHaveLength(1);
      // Replays are scoped the same way.
      const replay = subscribe(partner, 'subscription { events(after: "0") { studioId } }');
      await replay.take(1);
      const visible = await server.sql<{ n: number | string }>(`SELECT COUNT(*) AS "n" FROM events WHERE "studioId" = ${a.id}`);
      await replay.take(Number(visible[0]!.n));
      expect(new Set(replay.results.map((r) => r.data!['events'].studioId))).toEqual(new Set([String(a.id)]));
    });

    it('a record owned by a studio the token may not see is null, while the event and the customer are given', async () => {
      // The contract's earliest event came from B: it belongs to B. Its update arrives through A.
      await post(b.webhookKey, delivery(55, { type: 'CONTRACT_CREATED', timestamp: at(1), content: { contractId: 7055 } }));
      const partner = connect(server.app.url, partnerA);
      const updates = subscribe(partner, payloadQuery('CONTRACT_UPDATED'));
      const adminUpdates = subscribe(admin, payloadQuery('CONTRACT_UPDATED'));
      await listening(2);
      await post(a.webhookKey, delivery(55, { type: 'CONTRACT_UPDATED', timestamp: at(2), content: { contractId: 7055 } }));
      const [seen] = await updates.take(1);
      expect(seen!.data!['contractUpdated']).toMatchObject({
        event: { entityId: '55', studioId: String(a.id) },
        contract: null,
        customer: { customerId: '55' },
      });
      const [full] = await adminUpdates.take(1);
      expect(full!.data!['contractUpdated']).toMatchObject({ contract: { contractId: '7055', updatedAt: iso(2) } });
    });
  });

  describe('occupancyChanged', () => {
    it("delivers the studio's count after each check-in and check-out, including moves to another studio", async () => {
      const partner = connect(server.app.url, partnerA);
      const base = (
        await server.sql<{ n: number | string }>(
          `SELECT COUNT(*) AS "n" FROM customers WHERE "lastCheckinStudioId" = ${a.id} AND "deletedAt" IS NULL AND ("lastCheckoutAt" IS NULL OR "lastCheckinAt" > "lastCheckoutAt")`,
        )
      )[0]!.n;
      const changes = subscribe(
        partner,
        `subscription { occupancyChanged(studioId: ${a.id}) { studioId checkedIn studio { name } event { type entityId } } }`,
      );
      await listening(1);
      // Each change carries the count as read when it is pushed, so the next webhook waits for it
      // (posting at once would let a later check-in be counted in an earlier change).
      await post(a.webhookKey, delivery(81, { type: 'CUSTOMER_CHECKIN', timestamp: at(10) }));
      await changes.take(1);
      await post(a.webhookKey, delivery(82, { type: 'CUSTOMER_CHECKIN', timestamp: at(11) }));
      await changes.take(2);
      await post(a.webhookKey, delivery(81, { type: 'CUSTOMER_CHECKOUT', timestamp: at(12) }));
      await changes.take(3);
      await post(b.webhookKey, delivery(83, { type: 'CUSTOMER_CHECKIN', timestamp: at(13) }));
      await post(b.webhookKey, delivery(82, { type: 'CUSTOMER_CHECKIN', timestamp: at(14) }));
      const n = Number(base);
      expect((await changes.take(4)).map((r) => r.data!['occupancyChanged'])).toEqual([
        { studioId: String(a.id), checkedIn: n + 1, studio: { name: 'Alpha' }, event: { type: 'CUSTOMER_CHECKIN', entityId: '81' } },
        { studioId: String(a.id), checkedIn: n + 2, studio: { name: 'Alpha' }, event: { type: 'CUSTOMER_CHECKIN', entityId: '82' } },
        { studioId: String(a.id), checkedIn: n + 1, studio: { name: 'Alpha' }, event: { type: 'CUSTOMER_CHECKOUT', entityId: '81' } },
        // Customer 82 checked in at B: gone from A. B's event is not shown to a token for A only.
        { studioId: String(a.id), checkedIn: n, studio: { name: 'Alpha' }, event: null },
      ]);
    });

    it('when the token may not see the studio, then FORBIDDEN', async () => {
      const partner = connect(server.app.url, partnerA);
      const subscription = subscribe(partner, `subscription { occupancyChanged(studioId: ${b.id}) { checkedIn } }`);
      const [result] = await subscription.take(1);
      expect(result).toEqual({
        errors: [
          expect.objectContaining({ message: `studioId: this token may not see studio ${b.id}`, extensions: { code: 'FORBIDDEN' } }),
        ],
      });
      await expect(subscription.done).resolves.toBeUndefined();
    });
  });

  describe('resume with after', () => {
    it('when events were stored while the client was away, then they arrive once, in order, then the live ones', async () => {
      const first = connect(server.app.url, partnerA);
      const live = subscribe(first, 'subscription { events { seq entityId } }');
      await listening(1);
      await post(a.webhookKey, delivery(201, { type: 'CUSTOMER_CREATED', timestamp: at(1) }));
      const [seen] = await live.take(1);
      const cursor = seen!.data!['events'].seq as string;
      await first.dispose();
      await until(() => server.app.subscriptions.subscriptions === 0, 5000, 'the first subscription to end');

      await post(
        a.webhookKey,
        delivery(202, { type: 'CUSTOMER_CREATED', timestamp: at(2) }, { type: 'CUSTOMER_UPDATED', timestamp: at(3) }),
      );
      await post(b.webhookKey, delivery(203, { type: 'CUSTOMER_CREATED', timestamp: at(4) }));
      await post(a.webhookKey, delivery(204, { type: 'SOMETHING_NEW_UPSTREAM', timestamp: at(5) }));

      const again = connect(server.app.url, partnerA);
      const resumed = subscribe(again, `subscription { events(after: "${cursor}") { seq entityId } }`);
      const replayed = await resumed.take(3);
      await post(a.webhookKey, delivery(205, { type: 'CUSTOMER_CREATED', timestamp: at(6) }));
      const all = (await resumed.take(4)).map((r) => r.data!['events']);
      expect(all.map((e) => e.entityId)).toEqual(['202', '202', '204', '205']);
      const seqs = all.map((e) => Number(e.seq));
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(4);
      expect(replayed).toHaveLength(3);
    });

    it('accepts a cursor of the events connection, and resumes per-type subscriptions too', async () => {
      await post(a.webhookKey, delivery(211, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) }));
      const page = await fetch(`${server.app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: '{ events(last: 1) { edges { cursor node { seq } } } }' }),
      });
      const { edges } = ((await page.json()) as any).data.events;
      await post(a.webhookKey, delivery(212, { type: 'CUSTOMER_CHECKIN', timestamp: at(2) }));
      await post(a.webhookKey, delivery(213, { type: 'CUSTOMER_CHECKOUT', timestamp: at(3) }));
      const resumed = subscribe(
        admin,
        `subscription { customerCheckedIn(after: "${edges[0].cursor}") { event { entityId } visit { checkinAt } } }`,
      );
      expect((await resumed.take(1)).map((r) => r.data!['customerCheckedIn'])).toEqual([
        { event: { entityId: '212' }, visit: { checkinAt: iso(2) } },
      ]);
    });

    it('when events keep committing while a subscriber resumes, then it gets every one after its cursor exactly once, in order', async () => {
      const from = await lastSeq();
      const deliveries: WebhookBody[] = Array.from({ length: 120 }, (_, i) => ({
        uuid: randomUUID(),
        entityId: 300 + (i % 7),
        payload: [{ type: i % 5 === 0 ? 'SOMETHING_NEW_UPSTREAM' : 'CUSTOMER_UPDATED', timestamp: at(i) }],
      }));
      const sending = sendConcurrently(server.app.url, a.webhookKey, deliveries, 8);
      // Subscribe while the deliveries are being committed: the switch from replay to live happens under load.
      await until(async () => (await lastSeq()) > from + 20, 10_000, 'some deliveries to commit');
      const resumed = subscribe(
        admin,
        `subscription { events(after: "${from}", types: ["CUSTOMER_UPDATED", "SOMETHING_NEW_UPSTREAM"]) { seq } }`,
      );
      const results = await sending;
      expect(results.every((r) => 'status' in r && r.status === 200)).toBe(true);
      const got = (await resumed.take(120, 20_000)).map((r) => Number(r.data!['events'].seq));
      const stored = (await server.sql<{ seq: number | string }>(`SELECT seq FROM events WHERE seq > ${from} ORDER BY seq`)).map((r) =>
        Number(r.seq),
      );
      expect(got).toEqual(stored);
      expect(resumed.results).toHaveLength(120);
    });
  });

  describe('ordering', () => {
    it('when two studios post concurrently, then every subscriber gets the events in seq order, the same order as the log', async () => {
      const from = await lastSeq();
      const one = subscribe(admin, 'subscription { events { seq studioId } }');
      const other = connect(server.app.url, ADMIN_TOKEN);
      const two = subscribe(other, 'subscription { events { seq studioId } }');
      const partner = connect(server.app.url, partnerA);
      const three = subscribe(partner, 'subscription { events { seq studioId } }');
      await listening(3);
      const make = (base: number): WebhookBody[] =>
        Array.from({ length: 40 }, (_, i) => ({
          uuid: randomUUID(),
          entityId: base + i,
          payload: Array.from({ length: 1 + (i % 3) }, (_, j) => ({ type: 'CUSTOMER_UPDATED', timestamp: at(i * 3 + j) })),
        }));
      await Promise.all([
        sendConcurrently(server.app.url, a.webhookKey, make(400), 4),
        sendConcurrently(server.app.url, b.webhookKey, make(500), 4),
      ]);
      const stored = (
        await server.sql<{ seq: number | string; studioId: number }>(`SELECT seq, "studioId" FROM events WHERE seq > ${from} ORDER BY seq`)
      ).map((r) => ({ seq: String(r.seq), studioId: String(r.studioId) }));
      expect(stored).toHaveLength(2 * 79); // 40 deliveries of 1, 2 or 3 events per studio
      expect((await one.take(stored.length)).map((r) => r.data!['events'])).toEqual(stored);
      expect((await two.take(stored.length)).map((r) => r.data!['events'])).toEqual(stored);
      const ofA = stored.filter((e) => e.studioId === String(a.id));
      expect((await three.take(ofA.length)).map((r) => r.data!['events'])).toEqual(ofA);
    });
  });
});
