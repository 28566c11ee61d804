import {
  SISTER_ENTITY,
  SISTER_EVENT_TYPES,
  type ContractAnswer,
  type EmployeeAnswer,
  type StudioInformationAnswer,
} from '../tools/upstream-standin/answers.js';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { localMidnight } from '../tools/upstream-standin/sister-history.js';
import { World, type WebhookDelivery } from '../tools/upstream-standin/world.js';
import { parseZonedDateTime } from '../src/upstream/zoned-date-time.js';

/** The stand-in's sister-platform (Magicline) types: what it emits and what it then serves. */

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const element = (d: WebhookDelivery) => d.body.payload[0]!;
const ofType = (world: World, type: string) => world.deliveries.filter((d) => element(d).type === type);
const lastOfType = (world: World, type: string) => ofType(world, type).at(-1)!;

describe('stand-in upstream: the sister types in the generated history', () => {
  const world = new World({ seed: 4, sisterEvents: true });

  it('when sisterEvents is on, then each of the 23 types is emitted, deliveries stay well-formed and in time order, and the seed fixes everything', () => {
    const types = new Set(world.deliveries.map((d) => element(d).type));
    for (const type of SISTER_EVENT_TYPES) expect([type, types.has(type)]).toEqual([type, true]);
    expect(SISTER_EVENT_TYPES).toHaveLength(23);
    let last = 0;
    for (const d of world.deliveries) {
      expect(d.body.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Number.isSafeInteger(d.body.entityId)).toBe(true);
      expect(d.body.payload).toHaveLength(1);
      expect(element(d).timestamp).toBeGreaterThanOrEqual(last);
      expect(element(d).timestamp).toBeLessThan(world.endAt);
      last = element(d).timestamp;
      expect(d.webhookKey).toBe(world.studio(d.studioId).webhookKey);
    }
    expect(new Set(world.deliveries.map((d) => d.body.uuid)).size).toBe(world.deliveries.length);
    const again = new World({ seed: 4, sisterEvents: true });
    expect(again.deliveries).toEqual(world.deliveries);
    expect(JSON.stringify([...again.employees.values()])).toBe(JSON.stringify([...world.employees.values()]));
  });

  it("when sisterEvents is off (the default), then the history has none of them and is the seed types' stream unchanged; the records exist all the same", () => {
    const plain = new World({ seed: 4 });
    expect(plain.deliveries.filter((d) => (SISTER_EVENT_TYPES as string[]).includes(element(d).type))).toEqual([]);
    // The sister history is added to the seed types' history, which it leaves as it was (only the uuids, drawn in time order, differ).
    const seedTypes = (w: World) =>
      w.deliveries
        .filter((d) => !(SISTER_EVENT_TYPES as string[]).includes(element(d).type))
        .map((d) => [d.studioId, d.body.entityId, element(d)]);
    expect(seedTypes(world)).toEqual(seedTypes(plain));
    expect(plain.employees.size).toBeGreaterThanOrEqual(4 * plain.studios.length);
    expect(plain.studios.every((s) => s.openingHours.length > 0)).toBe(true);
  });

  it("when a type is customer-keyed, then entityId is a customer and its content names that customer's contract, pause or module as the world holds it", () => {
    const contractOf = (d: WebhookDelivery) => {
      const contract = world.contracts.find((c) => c.id === element(d).content?.['contractId']);
      expect(contract?.customerId).toBe(d.body.entityId);
      return contract!;
    };
    for (const type of SISTER_EVENT_TYPES.filter((t) => SISTER_ENTITY[t] === 'customer')) {
      for (const d of ofType(world, type)) {
        expect(world.customers.has(d.body.entityId)).toBe(true);
        const content = element(d).content;
        if (type.startsWith('CUSTOMER_ACCESS_')) expect(content).toBeUndefined();
        if (type === 'CUSTOMER_CHECKIN_STUDIOS_UPDATED' || type === 'CONTRACT_CANCELLED')
          expect(Object.keys(content!)).toEqual(['contractId']);
        if (type === 'CUSTOMER_CHECKIN_STUDIOS_UPDATED') expect(contractOf(d).checkinStudioIds.length).toBeGreaterThan(1);
        if (type === 'CONTRACT_CANCELLED') {
          const contract = contractOf(d);
          expect(contract.cancelled).toBe(true);
          expect(contract.cancellationDate).toBe(isoDate(element(d).timestamp));
        }
        if (type.startsWith('CONTRACT_ADDITIONAL_MODULE_')) {
          expect(Object.keys(content!).sort()).toEqual(['contractId', 'moduleContractId']);
          const module = contractOf(d).additionalModules.find((m) => m.moduleContractId === content!['moduleContractId']);
          const deleted = ofType(world, 'CONTRACT_ADDITIONAL_MODULE_DELETED').some(
            (x) => element(x).content?.['moduleContractId'] === content!['moduleContractId'],
          );
          expect(module === undefined).toBe(deleted);
        }
        if (type.startsWith('CONTRACT_IDLE_PERIOD_')) {
          expect(content).toMatchObject({ contractId: expect.any(Number), idlePeriodId: expect.any(Number) });
          const idle = contractOf(d).idlePeriods.find((p) => p.id === content!['idlePeriodId']);
          const cancelled = ofType(world, 'CONTRACT_IDLE_PERIOD_CANCELLED').some(
            (x) => element(x).content?.['idlePeriodId'] === content!['idlePeriodId'],
          );
          expect(idle === undefined).toBe(cancelled);
          if (idle && type !== 'CONTRACT_IDLE_PERIOD_CREATED') {
            // The latest change carries the pause's current length.
            expect(content!['idlePeriodAmount']).toBe(idle.amount ?? undefined);
          }
        }
      }
    }
    for (const customer of world.customers.values()) {
      const sent = (type: string) => ofType(world, type).filter((d) => d.body.entityId === customer.id).length;
      expect(customer.accessMedia.length).toBe(sent('CUSTOMER_ACCESS_MEDIUM_CREATED') - sent('CUSTOMER_ACCESS_MEDIUM_DELETED'));
      expect(customer.accessRestrictions.length).toBe(
        sent('CUSTOMER_ACCESS_RESTRICTION_CREATED') - sent('CUSTOMER_ACCESS_RESTRICTION_DELETED'),
      );
    }
  });

  it("when a customer moves or loses access, then that is the last thing it does: moved from the source studio's key, disabled at the event's time", () => {
    for (const d of ofType(world, 'CUSTOMER_HOME_STUDIO_UPDATED')) {
      const { sourceStudioId, targetStudioId } = element(d).content as { sourceStudioId: number; targetStudioId: number };
      expect(d.studioId).toBe(sourceStudioId);
      expect(sourceStudioId).not.toBe(targetStudioId);
      expect(world.customers.get(d.body.entityId)!.studioId).toBe(targetStudioId);
    }
    for (const type of ['CUSTOMER_HOME_STUDIO_UPDATED', 'CUSTOMER_ACCESS_DISABLED']) {
      for (const d of ofType(world, type)) {
        const later = world.deliveries.filter(
          (x) =>
            element(x).timestamp > element(d).timestamp &&
            x.body.entityId === d.body.entityId &&
            /^(CUSTOMER|CONTRACT)_/.test(element(x).type),
        );
        expect(later).toEqual([]);
      }
    }
    const disabled = ofType(world, 'CUSTOMER_ACCESS_DISABLED');
    for (const d of disabled) expect(world.customers.get(d.body.entityId)!.accessDisabledAt).toBe(element(d).timestamp);
    expect([...world.customers.values()].filter((c) => c.accessDisabledAt !== null)).toHaveLength(disabled.length);
  });

  it("when a type is keyed by employee, studio or case adjustment, then entityId is that, sent with the studio's key; the case content is the agency's id once it has the case", () => {
    for (const type of ['EMPLOYEE_CREATED', 'EMPLOYEE_UPDATED', 'EMPLOYEE_DELETED']) {
      for (const d of ofType(world, type)) {
        const employee = world.employees.get(d.body.entityId)!;
        expect(employee.studioId).toBe(d.studioId);
        expect(element(d).content).toBeUndefined();
        if (type === 'EMPLOYEE_DELETED') expect(employee.deletedAt).toBe(element(d).timestamp);
        if (type === 'EMPLOYEE_CREATED') expect(employee.createdAt).toBe(element(d).timestamp);
      }
    }
    for (const type of [
      'STUDIO_OPENING_HOURS_UPDATED',
      'ADDITIONAL_INFORMATION_FIELDS_UPDATED',
      'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED',
    ]) {
      for (const d of ofType(world, type)) {
        expect(d.body.entityId).toBe(d.studioId);
        expect(element(d).content).toBeUndefined();
      }
    }
    for (const studio of world.studios) {
      const changes = ofType(world, 'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED').filter((d) => d.studioId === studio.id).length;
      expect(studio.debtCollectionConfiguration.revision).toBe(1 + changes);
    }
    const cases = [...world.debtCollectionCases.values()];
    for (const d of ofType(world, 'FINANCE_DEBT_COLLECTION_CASE_UPDATED')) {
      const debtCase = cases.find((c) => c.adjustments.some((a) => a.caseAdjustmentRequestId === d.body.entityId))!;
      expect(d.studioId).toBe(debtCase.studioId);
      const adjustment = debtCase.adjustments.find((a) => a.caseAdjustmentRequestId === d.body.entityId)!;
      expect(adjustment.at).toBe(element(d).timestamp);
      const content = element(d).content!;
      expect(Object.keys(content)).toHaveLength(1);
      if ('agencyDebtCollectionCaseId' in content) expect(content['agencyDebtCollectionCaseId']).toBe(debtCase.agencyDebtCollectionCaseId);
      else expect(content).toEqual({ collectionCaseId: debtCase.collectionCaseId });
    }
  });
});

describe("stand-in upstream: the sister types' reads", () => {
  const world = new World({ seed: 4, sisterEvents: true });
  const [one, two] = world.studios;
  let standin: Standin;
  const get = async (path: string, key: string | null = one!.apiKey, method = 'GET') => {
    const response = await fetch(`${standin.baseUrl}${path}`, { method, headers: key === null ? {} : { 'x-api-key': key } });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  const disabled = (customerId: number) => world.customers.get(customerId)!.accessDisabledAt !== null;
  const contracts = async (customerId: number): Promise<ContractAnswer[]> => {
    const answer = await get(`/customers/${customerId}/contracts`);
    expect(answer.status).toBe(200);
    return answer.body;
  };

  beforeAll(async () => {
    standin = await startStandin({ world });
  });
  afterAll(() => standin.close());

  it('when contracts are read after the history, then cancellations, pauses and modules read as the events said', async () => {
    for (const d of ofType(world, 'CONTRACT_CANCELLED')) {
      if (disabled(d.body.entityId)) continue;
      const contract = (await contracts(d.body.entityId)).find((c) => c.id === element(d).content!['contractId'])!;
      expect(contract).toMatchObject({ cancelled: true, cancellationDate: isoDate(element(d).timestamp) });
    }
    const created = ofType(world, 'CONTRACT_IDLE_PERIOD_CREATED');
    for (const d of created) {
      if (disabled(d.body.entityId)) continue;
      const { contractId, idlePeriodId } = element(d).content as { contractId: number; idlePeriodId: number };
      const contract = (await contracts(d.body.entityId)).find((c) => c.id === contractId)!;
      const cancelled = ofType(world, 'CONTRACT_IDLE_PERIOD_CANCELLED').some((x) => element(x).content!['idlePeriodId'] === idlePeriodId);
      const idle = contract.idlePeriods.find((p) => p.id === idlePeriodId);
      if (cancelled) expect(idle).toBeUndefined();
      else {
        expect(idle).toEqual({
          id: idlePeriodId,
          startDate: expect.stringMatching(/^\d{4}-\d\d-\d\d$/),
          endDate: idle!.unlimited ? null : expect.stringMatching(/^\d{4}-\d\d-\d\d$/),
          unlimited: expect.any(Boolean),
          reason: expect.any(String),
          temporalUnit: 'DAY',
          idlePeriodAmount: idle!.unlimited ? null : expect.any(Number),
          usedFreeTermsInDays: idle!.fee === null && !idle!.unlimited ? idle!.idlePeriodAmount : null,
          fee: idle!.usedFreeTermsInDays === null ? { amount: expect.any(Number), currency: 'EUR' } : null,
          createdDate: isoDate(element(d).timestamp),
        });
        const latest = [...ofType(world, 'CONTRACT_IDLE_PERIOD_CREATED'), ...ofType(world, 'CONTRACT_IDLE_PERIOD_UPDATED')]
          .filter((x) => element(x).content!['idlePeriodId'] === idlePeriodId)
          .sort((a, b) => element(a).timestamp - element(b).timestamp)
          .at(-1)!;
        expect(idle!.idlePeriodAmount ?? undefined).toBe(element(latest).content!['idlePeriodAmount']);
        expect(idle!.usedFreeTermsInDays ?? undefined).toBe(element(latest).content!['usedFreeTermsInDays']);
      }
    }
    for (const d of ofType(world, 'CONTRACT_ADDITIONAL_MODULE_CREATED')) {
      if (disabled(d.body.entityId)) continue;
      const { contractId, moduleContractId } = element(d).content as { contractId: number; moduleContractId: number };
      const module = (await contracts(d.body.entityId))
        .find((c) => c.id === contractId)!
        .additionalModules.find((m) => m.moduleContractId === moduleContractId);
      const happened = (type: string) => ofType(world, type).find((x) => element(x).content!['moduleContractId'] === moduleContractId);
      if (happened('CONTRACT_ADDITIONAL_MODULE_DELETED')) {
        expect(module).toBeUndefined();
        continue;
      }
      const cancel = happened('CONTRACT_ADDITIONAL_MODULE_CANCELLED');
      expect(module).toEqual({
        id: moduleContractId,
        moduleContractId,
        rateName: expect.any(String),
        status: 'ACTIVE',
        startDate: isoDate(element(d).timestamp),
        endDate: expect.any(String),
        cancelled: cancel !== undefined,
        cancellationDate: cancel ? isoDate(element(cancel).timestamp) : null,
        price: { amount: expect.any(Number), currency: 'EUR' },
      });
    }
  });

  it("when a customer's access was disabled, then every read of it is 403 with the error JSON and it is left out of the customer list; its bookings stay readable by id", async () => {
    const d = lastOfType(world, 'CUSTOMER_ACCESS_DISABLED');
    const customer = world.customers.get(d.body.entityId)!;
    const key = world.studio(customer.studioId).apiKey;
    for (const path of [
      `/customers/${customer.id}`,
      `/customers/${customer.id}/contracts`,
      `/customers/${customer.id}/activities/checkins`,
      `/communications/${customer.id}/communication-preferences`,
      `/classes/booking?customerId=${customer.id}`,
      `/appointments/booking?customerId=${customer.id}`,
    ]) {
      const answer = await get(path, key);
      expect([path, answer.status]).toEqual([path, 403]);
      expect(answer.body).toEqual({
        errorMessage: `access to customer ${customer.id} is disabled`,
        errorCode: 'FORBIDDEN',
        traceId: expect.any(String),
      });
    }
    const list = await get('/customers?sliceSize=100', key);
    expect(list.body.result.map((c: { id: number }) => c.id)).not.toContain(customer.id);
    const booking = [...world.classBookings.values()].find((b) => b.customerId === customer.id);
    if (booking) expect((await get(`/classes/booking/${booking.bookingId}`, key)).status).toBe(200);
  });

  it('when a customer moved, then it reads the target as home studio and is listed there, not at the source', async () => {
    const d = lastOfType(world, 'CUSTOMER_HOME_STUDIO_UPDATED');
    const { sourceStudioId, targetStudioId } = element(d).content as { sourceStudioId: number; targetStudioId: number };
    expect((await get(`/customers/${d.body.entityId}`)).body.studioId).toBe(targetStudioId);
    const listed = async (studioId: number) =>
      (await get('/customers?sliceSize=100', world.studio(studioId).apiKey)).body.result.map((c: { id: number }) => c.id);
    expect(await listed(targetStudioId)).toContain(d.body.entityId);
    expect(await listed(sourceStudioId)).not.toContain(d.body.entityId);
  });

  it('when employees are read, then the answer has the documented fields, optional ones only when set; a deleted one is 404', async () => {
    const employee = [...world.employees.values()].find((e) => e.deletedAt === null && e.businessRole === 'STUDIO_MANAGER')!;
    const answer = await get(`/employees/${employee.id}`, two!.apiKey);
    expect(answer.status).toBe(200);
    const expected: EmployeeAnswer = {
      id: employee.id,
      firstName: employee.firstName,
      lastName: employee.lastName,
      gender: employee.gender,
      employeeInitials: employee.employeeInitials,
      businessRole: 'STUDIO_MANAGER',
      ...(employee.email ? { email: employee.email } : {}),
      ...(employee.phoneNumber ? { phoneNumber: employee.phoneNumber } : {}),
      employeeCompetences: employee.competences,
    };
    expect(answer.body).toEqual(expected);
    expect(answer.body.employeeInitials).toBe(`${employee.firstName[0]}${employee.lastName[0]}`.toUpperCase());
    const trainer = [...world.employees.values()].find((e) => e.deletedAt === null && e.businessRole === 'TRAINER');
    if (trainer) expect((await get(`/employees/${trainer.id}`)).body.employeeCompetences).toEqual(trainer.competences);
    const deleted = lastOfType(world, 'EMPLOYEE_DELETED');
    const gone = await get(`/employees/${deleted.body.entityId}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ errorMessage: `employee ${deleted.body.entityId} not found`, errorCode: 'NOT_FOUND' });
    expect((await get('/employees/999999')).status).toBe(404);
    expect((await get(`/employees/${employee.id}`, null)).status).toBe(401);
    expect((await get(`/employees/${employee.id}`, one!.apiKey, 'HEAD')).status).toBe(200);
  });

  it("when studio information is read, then it has the key's studio, its hours by weekday ranges and its closures as zoned date-times, and no zone field", async () => {
    const answer = await get('/studios/information', two!.apiKey);
    const body: StudioInformationAnswer = answer.body;
    expect(Object.keys(body).sort()).toEqual(['city', 'closingHours', 'countryCode', 'name', 'openingHours', 'studioId']);
    expect(body).toMatchObject({ studioId: two!.id, name: two!.name, city: two!.city, countryCode: 'DE' });
    expect(body.openingHours).toEqual(two!.openingHours);
    for (const h of body.openingHours)
      expect(h).toEqual({
        dayOfWeekFrom: expect.stringMatching(/DAY$/),
        dayOfWeekTo: expect.stringMatching(/DAY$/),
        timeFrom: expect.stringMatching(/^\d\d:\d\d$/),
        timeTo: expect.stringMatching(/^\d\d:\d\d$/),
      });
    expect(body.closingHours.length).toBeGreaterThan(0);
    for (const [i, h] of body.closingHours.entries()) {
      expect(h.dateTimeFrom).toMatch(/^\d{4}-\d\d-\d\dT00:00:00\.000\+0[12]:00\[Europe\/Berlin\]$/);
      expect(parseZonedDateTime(h.dateTimeFrom)?.getTime()).toBe(two!.closingHours[i]!.from);
      expect(parseZonedDateTime(h.dateTimeTo)?.getTime()).toBe(two!.closingHours[i]!.to);
    }
  });
});

describe("stand-in upstream: the sister types' mutations, sent and then read", () => {
  const world = new World({ seed: 8, studios: 2, customersPerStudio: 6 });
  const [one, two] = world.studios;
  let standin: Standin;
  const get = async (path: string, key = one!.apiKey) => {
    const response = await fetch(`${standin.baseUrl}${path}`, { headers: { 'x-api-key': key } });
    return { status: response.status, body: await response.json() };
  };
  const sent = () => world.deliveries.at(-1)!;
  const member = () =>
    [...world.customers.values()].find(
      (c) => c.studioId === one!.id && c.accessDisabledAt === null && world.contracts.some((k) => k.customerId === c.id && !k.cancelled),
    )!;

  beforeAll(async () => {
    standin = await startStandin({ world });
  });
  afterAll(() => standin.close());

  it('when the opening hours change, then STUDIO_OPENING_HOURS_UPDATED names the studio and the information reads the new hours and closure', async () => {
    const before = (await get('/studios/information')).body;
    const closedFrom = localMidnight('2026-02-01', world.zone);
    world.updateOpeningHours(one!.id, {
      openingHours: [{ dayOfWeekFrom: 'MONDAY', dayOfWeekTo: 'SUNDAY', timeFrom: '00:00', timeTo: '23:59' }],
      closingHours: [{ reason: 'Renovation', from: closedFrom, to: closedFrom + 2 * 86_400_000 }],
    });
    expect(sent()).toMatchObject({
      studioId: one!.id,
      body: { entityId: one!.id, payload: [{ type: 'STUDIO_OPENING_HOURS_UPDATED', timestamp: world.now }] },
    });
    const after = (await get('/studios/information')).body;
    expect(after).not.toEqual(before);
    expect(after.openingHours).toEqual([{ dayOfWeekFrom: 'MONDAY', dayOfWeekTo: 'SUNDAY', timeFrom: '00:00', timeTo: '23:59' }]);
    expect(after.closingHours).toEqual([
      {
        reason: 'Renovation',
        dateTimeFrom: '2026-02-01T00:00:00.000+01:00[Europe/Berlin]',
        dateTimeTo: '2026-02-03T00:00:00.000+01:00[Europe/Berlin]',
      },
    ]);
    expect((await get('/studios/information', two!.apiKey)).body.openingHours).not.toEqual(after.openingHours);
  });

  it('when a contract is paused, the pause changed and withdrawn, then each event carries the pause and the contract list follows', async () => {
    const customer = member();
    const contract = world.contracts.find((c) => c.customerId === customer.id)!;
    const idle = world.addIdlePeriod(contract.id, { startDate: '2026-02-01', endDate: '2026-02-14', free: true });
    expect(sent().body).toMatchObject({
      entityId: customer.id,
      payload: [
        {
          type: 'CONTRACT_IDLE_PERIOD_CREATED',
          content: { contractId: contract.id, idlePeriodId: idle.id, idlePeriodAmount: 14, usedFreeTermsInDays: 14 },
        },
      ],
    });
    const listed = async () =>
      (await get(`/customers/${customer.id}/contracts`)).body.find((c: ContractAnswer) => c.id === contract.id).idlePeriods;
    expect(await listed()).toEqual([
      expect.objectContaining({
        id: idle.id,
        startDate: '2026-02-01',
        endDate: '2026-02-14',
        unlimited: false,
        idlePeriodAmount: 14,
        usedFreeTermsInDays: 14,
        fee: null,
      }),
    ]);
    world.updateIdlePeriod(contract.id, idle.id, null);
    expect(sent().body.payload[0]).toMatchObject({
      type: 'CONTRACT_IDLE_PERIOD_UPDATED',
      content: { contractId: contract.id, idlePeriodId: idle.id },
    });
    expect(element(sent()).content).not.toHaveProperty('idlePeriodAmount');
    expect(await listed()).toEqual([expect.objectContaining({ id: idle.id, endDate: null, unlimited: true, idlePeriodAmount: null })]);
    world.cancelIdlePeriod(contract.id, idle.id);
    expect(sent().body.payload[0]).toMatchObject({
      type: 'CONTRACT_IDLE_PERIOD_CANCELLED',
      content: { contractId: contract.id, idlePeriodId: idle.id },
    });
    expect(await listed()).toEqual([]);
  });

  it('when a module is added, changed, cancelled and another deleted, then the events name main and module contract and the list follows', async () => {
    const customer = member();
    const contract = world.contracts.find((c) => c.customerId === customer.id)!;
    const modules = async (): Promise<ContractAnswer['additionalModules']> =>
      (await get(`/customers/${customer.id}/contracts`)).body.find((c: ContractAnswer) => c.id === contract.id).additionalModules;
    const sauna = world.addAdditionalModule(contract.id, 'Sauna', 9.9);
    expect(sent().body).toMatchObject({
      entityId: customer.id,
      payload: [
        { type: 'CONTRACT_ADDITIONAL_MODULE_CREATED', content: { contractId: contract.id, moduleContractId: sauna.moduleContractId } },
      ],
    });
    expect(world.contracts.some((c) => c.id === sauna.moduleContractId)).toBe(false);
    world.updateAdditionalModule(contract.id, sauna.moduleContractId, { price: 12.5 });
    expect(element(sent())).toMatchObject({
      type: 'CONTRACT_ADDITIONAL_MODULE_UPDATED',
      content: { contractId: contract.id, moduleContractId: sauna.moduleContractId },
    });
    world.cancelAdditionalModule(contract.id, sauna.moduleContractId);
    const cancelledAt = world.now;
    expect(element(sent())).toMatchObject({ type: 'CONTRACT_ADDITIONAL_MODULE_CANCELLED' });
    const towels = world.addAdditionalModule(contract.id);
    world.deleteAdditionalModule(contract.id, towels.moduleContractId);
    expect(element(sent())).toEqual({
      type: 'CONTRACT_ADDITIONAL_MODULE_DELETED',
      timestamp: world.now,
      content: { contractId: contract.id, moduleContractId: towels.moduleContractId },
    });
    expect(await modules()).toEqual([
      {
        id: sauna.moduleContractId,
        moduleContractId: sauna.moduleContractId,
        rateName: 'Sauna',
        status: 'ACTIVE',
        startDate: isoDate(sauna.createdAt),
        endDate: isoDate(cancelledAt + 30 * 86_400_000),
        cancelled: true,
        cancellationDate: isoDate(cancelledAt),
        price: { amount: 12.5, currency: 'EUR' },
      },
    ]);
  });

  it('when a contract is cancelled, then CONTRACT_CANCELLED names it and it reads cancelled on that day, still running to its end', async () => {
    const customer = member();
    const contract = world.contracts.find((c) => c.customerId === customer.id && !c.cancelled)!;
    world.cancelContract(contract.id);
    expect(sent()).toMatchObject({
      studioId: customer.studioId,
      body: { entityId: customer.id, payload: [{ type: 'CONTRACT_CANCELLED', content: { contractId: contract.id } }] },
    });
    const read = (await get(`/customers/${customer.id}/contracts`)).body.find((c: ContractAnswer) => c.id === contract.id);
    expect(read).toMatchObject({
      cancelled: true,
      cancellationDate: isoDate(world.now),
      contractStatus: 'ACTIVE',
      endDate: contract.endDate,
    });
    expect(() => world.cancelContract(contract.id)).toThrow(/already cancelled/);
  });

  it('when an access restriction is set and lifted, then the customer reads accessRefusal true and then false again', async () => {
    const customer = [...world.customers.values()].find((c) => !c.accessRefusal && c.accessDisabledAt === null && c.studioId === one!.id)!;
    const restriction = world.addAccessRestriction(customer.id, 'Unpaid fees');
    expect(sent().body).toMatchObject({ entityId: customer.id, payload: [{ type: 'CUSTOMER_ACCESS_RESTRICTION_CREATED' }] });
    expect(element(sent())).not.toHaveProperty('content');
    expect((await get(`/customers/${customer.id}`)).body.accessRefusal).toBe(true);
    world.liftAccessRestriction(customer.id, restriction.id);
    expect(element(sent()).type).toBe('CUSTOMER_ACCESS_RESTRICTION_DELETED');
    expect((await get(`/customers/${customer.id}`)).body.accessRefusal).toBe(false);
    const card = world.addAccessMedium(customer.id);
    world.replaceAccessMedium(customer.id, card.id);
    world.removeAccessMedium(customer.id, card.id);
    expect(world.deliveries.slice(-3).map((d) => [d.body.entityId, element(d).type])).toEqual([
      [customer.id, 'CUSTOMER_ACCESS_MEDIUM_CREATED'],
      [customer.id, 'CUSTOMER_ACCESS_MEDIUM_UPDATED'],
      [customer.id, 'CUSTOMER_ACCESS_MEDIUM_DELETED'],
    ]);
  });

  it('when a customer moves home, changes check-in studios and then loses access, then the events say so and its reads go from 200 to 403', async () => {
    const customer = member();
    const contract = world.contracts.find((c) => c.customerId === customer.id)!;
    world.updateCheckinStudios(contract.id, [one!.id, two!.id]);
    expect(sent()).toMatchObject({
      studioId: one!.id,
      body: { entityId: customer.id, payload: [{ type: 'CUSTOMER_CHECKIN_STUDIOS_UPDATED', content: { contractId: contract.id } }] },
    });
    world.moveHomeStudio(customer.id, two!.id);
    expect(sent()).toMatchObject({
      studioId: one!.id,
      body: {
        entityId: customer.id,
        payload: [{ type: 'CUSTOMER_HOME_STUDIO_UPDATED', content: { sourceStudioId: one!.id, targetStudioId: two!.id } }],
      },
    });
    expect((await get(`/customers/${customer.id}`, two!.apiKey)).body.studioId).toBe(two!.id);
    world.disableCustomerAccess(customer.id);
    expect(sent()).toMatchObject({ studioId: two!.id, body: { entityId: customer.id, payload: [{ type: 'CUSTOMER_ACCESS_DISABLED' }] } });
    const answer = await get(`/customers/${customer.id}`, two!.apiKey);
    expect(answer.status).toBe(403);
    expect(answer.body.errorCode).toBe('FORBIDDEN');
    expect(() => world.visit(customer.id, two!.id)).toThrow(/access is disabled/);
    world.deleteCustomer(customer.id);
    expect((await get(`/customers/${customer.id}`, two!.apiKey)).status).toBe(404);
  });

  it("when an employee is hired, changed and deleted, then each event names it with its studio's key and the read follows, to 404", async () => {
    const employee = world.createEmployee(two!.id, { firstName: 'Rita', lastName: 'Vogel', businessRole: 'TRAINER' });
    expect(sent()).toMatchObject({ studioId: two!.id, body: { entityId: employee.id, payload: [{ type: 'EMPLOYEE_CREATED' }] } });
    expect((await get(`/employees/${employee.id}`)).body).toMatchObject({
      id: employee.id,
      firstName: 'Rita',
      lastName: 'Vogel',
      employeeInitials: 'RV',
      businessRole: 'TRAINER',
    });
    world.updateEmployee(employee.id, { lastName: 'Adler', businessRole: 'STUDIO_MANAGER' });
    expect(element(sent()).type).toBe('EMPLOYEE_UPDATED');
    expect((await get(`/employees/${employee.id}`)).body).toMatchObject({
      lastName: 'Adler',
      employeeInitials: 'RA',
      businessRole: 'STUDIO_MANAGER',
    });
    world.deleteEmployee(employee.id);
    expect(element(sent()).type).toBe('EMPLOYEE_DELETED');
    expect((await get(`/employees/${employee.id}`)).status).toBe(404);
    expect(() => world.updateEmployee(employee.id, {})).toThrow(/deleted/);
  });

  it("when the studio's fields or debt-collection settings change, then the event's entityId is the studio; a case change names the case, then the agency's case", () => {
    world.addAdditionalInformationField(two!.id, 'Locker number', 'NUMBER');
    expect(sent()).toMatchObject({
      studioId: two!.id,
      body: { entityId: two!.id, payload: [{ type: 'ADDITIONAL_INFORMATION_FIELDS_UPDATED' }] },
    });
    world.updateDebtCollectionConfiguration(two!.id, { agencyHandoverAfterDays: 30 });
    expect(sent()).toMatchObject({
      studioId: two!.id,
      body: { entityId: two!.id, payload: [{ type: 'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED' }] },
    });
    expect(two!.debtCollectionConfiguration).toMatchObject({ revision: 2, agencyHandoverAfterDays: 30 });

    const customer = [...world.customers.values()].find((c) => c.studioId === one!.id && c.accessDisabledAt === null)!;
    const debtCase = world.openDebtCollectionCase(customer.id, 80);
    const first = world.adjustDebtCollectionCase(debtCase.collectionCaseId, { openAmount: 40 });
    expect(sent()).toMatchObject({
      studioId: one!.id,
      body: {
        entityId: first,
        payload: [{ type: 'FINANCE_DEBT_COLLECTION_CASE_UPDATED', content: { collectionCaseId: debtCase.collectionCaseId } }],
      },
    });
    const second = world.adjustDebtCollectionCase(debtCase.collectionCaseId, { toAgency: true });
    expect(second).not.toBe(first);
    expect(debtCase.agencyDebtCollectionCaseId).not.toBeNull();
    expect(element(sent()).content).toEqual({ agencyDebtCollectionCaseId: debtCase.agencyDebtCollectionCaseId });
    expect(debtCase).toMatchObject({ status: 'WITH_AGENCY', openAmount: 40 });
  });

  it('when a sister read is asked beyond its limit in the window, then 429 like every endpoint', async () => {
    // Not across a minute boundary (the windows are calendar minutes).
    if (Date.now() % 60_000 > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - (Date.now() % 60_000)));
    const limited = await startStandin({ world, limitPerWindow: 3 });
    try {
      const id = [...world.employees.values()].find((e) => e.deletedAt === null)!.id;
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push(
          await fetch(`${limited.baseUrl}/employees/${id}`, { headers: { 'x-api-key': one!.apiKey } }).then(
            async (r) => (await r.text(), r.status),
          ),
        );
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(limited.stats()['GET /v1/employees/{employeeId}']).toMatchObject({ requests: 4, byStatus: { 200: 3, 429: 1 } });
    } finally {
      await limited.close();
    }
  });
});
