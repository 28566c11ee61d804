import type { Random } from './random.js';
import { DAYS_OF_WEEK, type WorldEmployee, type WorldOpeningHours } from './sister-types.js';
import type { PendingDelivery, World, WorldContract, WorldCustomer } from './world.js';

/**
 * The sister platform's records in a generated world (always) and their history (with
 * `sisterEvents`): every draw comes from `world.sisterRandom`, never from the generator of the seed
 * types, so a world without them is exactly the one generated before they existed.
 *
 * Frequencies over the history (default world: 3 studios, 60 customers, 14 days; each kind at least
 * once in a world that has candidates for it):
 * - 60% of contract holders get an access card when their contract starts; 10% of holders have it
 *   replaced, 5% have it taken away.
 * - 5% of customers get an access restriction, half of those have it lifted.
 * - 5% of running contracts change their check-in studios (with more than one studio).
 * - 6% of running contracts get an idle period (one in ten unlimited; 60% free, else charged),
 *   a third of those are changed, a quarter cancelled.
 * - 10% of running contracts get an additional module; a quarter of those are changed, a quarter
 *   cancelled, a sixth deleted.
 * - 5% of running contracts are cancelled; every contract generated cancelled (former members)
 *   has its CONTRACT_CANCELLED at its cancellation time.
 * - 3% of customers move to another home studio, 2% have their access disabled, each after
 *   everything else that customer did (a disabled customer does nothing more).
 * - Per studio (the first studio always, to have each type): an employee hired (50%), one changed
 *   (60%), one deleted (25%); opening hours changed (50%); a customer field added (30%); the
 *   debt-collection settings changed (30%). Each debt-collection case has one or two change requests.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const STAFF_FIRST_NAMES = ['Sven', 'Lea', 'Tobias', 'Nina', 'Marco', 'Julia', 'Kai', 'Sophie'] as const;
const STAFF_LAST_NAMES = ['Fischer', 'Meyer', 'Schäfer', 'Bauer', 'Zimmermann', 'Krüger', 'Hartmann'] as const;
const EMPLOYEE_ROLES = ['TRAINER', 'TRAINER', 'SERVICE_EMPLOYEE', 'SERVICE_EMPLOYEE', 'ADMINISTRATION_OR_FINANCE', 'MARKETING'] as const;
const COMPETENCES = [
  { id: 801, name: 'Personal training' },
  { id: 802, name: 'Nutrition' },
  { id: 803, name: 'Physiotherapy' },
  { id: 804, name: 'Group fitness' },
  { id: 805, name: 'Rehabilitation' },
] as const;
const MODULES = [
  ['Towel flat', 4.9],
  ['Sauna', 9.9],
  ['Drinks flat', 14.9],
  ['Solarium', 7.5],
] as const;
const FIELD_NAMES = ['Emergency contact', 'Fitness goal', 'Referral source', 'T-shirt size', 'Locker number'] as const;

/** A new employee record with seeded names, role and competences (the fields given win). */
export function newEmployee(
  r: Random,
  id: number,
  studioId: number,
  createdAt: number,
  fields: Partial<Pick<WorldEmployee, 'firstName' | 'lastName' | 'businessRole'>> = {},
): WorldEmployee {
  const firstName = fields.firstName ?? r.pick(STAFF_FIRST_NAMES);
  const lastName = fields.lastName ?? r.pick(STAFF_LAST_NAMES);
  const businessRole = fields.businessRole !== undefined ? fields.businessRole : r.chance(0.9) ? r.pick(EMPLOYEE_ROLES) : null;
  // Trainers have one or two competences; the others none.
  const competences =
    businessRole === 'TRAINER' ? [r.pick(COMPETENCES), r.pick(COMPETENCES)].filter((c, i, all) => all.indexOf(c) === i) : [];
  return {
    id,
    studioId,
    createdAt,
    firstName,
    lastName,
    gender: r.pick(['MALE', 'FEMALE', 'UNISEX'] as const),
    employeeInitials: initials(firstName, lastName),
    businessRole,
    email: r.chance(0.8) ? `${firstName}.${lastName}.${id}@staff.example.com`.toLowerCase() : null,
    phoneNumber: r.chance(0.5) ? `+49 30 ${r.int(1_000_000, 9_999_999)}` : null,
    competences: competences.map((c) => ({ ...c })),
    deletedAt: null,
  };
}

export const initials = (firstName: string, lastName: string) => `${firstName.slice(0, 1)}${lastName.slice(0, 1)}`.toUpperCase();

/** Epoch ms of 00:00 on `date` (YYYY-MM-DD) in `zone`. */
export function localMidnight(date: string, zone: string): number {
  const utc = Date.parse(`${date}T00:00:00Z`);
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(new Date(utc))
      .find((p) => p.type === 'timeZoneName')?.value ?? '';
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  const offset = match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) * MINUTE : 0;
  return utc - offset;
}

/** The records that exist before the history starts: hours, fields, staff, debt-collection cases. No deliveries. */
export function generateSisterState(world: World): void {
  const r = world.sisterRandom;
  for (const studio of world.studios) {
    studio.openingHours = [
      { dayOfWeekFrom: 'MONDAY', dayOfWeekTo: 'FRIDAY', timeFrom: r.pick(['06:00', '07:00']), timeTo: r.pick(['22:00', '23:00']) },
      { dayOfWeekFrom: 'SATURDAY', dayOfWeekTo: 'SUNDAY', timeFrom: r.pick(['08:00', '09:00']), timeTo: r.pick(['20:00', '21:00']) },
    ];
    const closedOn = isoDate(world.endAt + r.int(20, 60) * DAY);
    studio.closingHours = [
      {
        reason: 'Maintenance',
        from: localMidnight(closedOn, world.zone),
        to: localMidnight(isoDate(Date.parse(closedOn) + DAY), world.zone),
      },
    ];
    studio.additionalInformationFields = [
      { id: world.nextId('informationField'), name: 'Emergency contact', type: 'TEXT', mandatory: false },
    ];

    const staff = r.int(4, 6);
    for (let n = 0; n < staff; n++) {
      const id = world.nextId('employee');
      world.employees.set(
        id,
        newEmployee(r, id, studio.id, world.startAt - r.int(30, 900) * DAY, n === 0 ? { businessRole: 'STUDIO_MANAGER' } : {}),
      );
    }

    const home = [...world.customers.values()].filter((c) => c.studioId === studio.id);
    const debtors = [...home.filter((c) => c.status === 'FORMER_MEMBER'), ...home.filter((c) => c.status !== 'FORMER_MEMBER')].slice(
      0,
      r.int(1, 2),
    );
    for (const debtor of debtors) {
      const debtCase = world.openDebtCollectionCase(debtor.id, r.pick([39.8, 59.7, 98]));
      if (r.chance(0.4)) {
        debtCase.agencyDebtCollectionCaseId = world.nextId('agencyCase');
        debtCase.status = 'WITH_AGENCY';
      }
    }
  }
}

/**
 * The sister types' history, through the world's own mutation methods (so state and deliveries
 * agree), at times inside the history. `pending` holds the deliveries so far, unsorted (the world
 * collects its mutations' deliveries there while generating): it tells when each customer last did
 * something.
 */
export function generateSisterHistory(world: World, pending: PendingDelivery[]): void {
  const r = world.sisterRandom;
  const { startAt, endAt } = world;

  /** A whole second in [lo, hi), or null when there is less than a minute of room. */
  const between = (lo: number, hi: number): number | null => {
    const from = Math.ceil(lo / 1000) * 1000;
    return hi - from < MINUTE ? null : from + Math.floor((r.next() * (hi - from)) / 1000) * 1000;
  };
  const shuffled = <T>(items: readonly T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  /** Tries items in a seeded order until `share` of them (at least one) took: `attempt` says whether one did. */
  const some = <T>(items: readonly T[], share: number, attempt: (item: T) => boolean): T[] => {
    const target = items.length === 0 ? 0 : Math.max(1, Math.round(items.length * share));
    const done: T[] = [];
    for (const item of shuffled(items)) {
      if (done.length >= target) break;
      if (attempt(item)) done.push(item);
    }
    return done;
  };

  const customers = [...world.customers.values()].filter((c) => c.deletedAt === null);
  const customerOf = (contract: WorldContract) => world.customers.get(contract.customerId)!;
  /** Per contract, the latest sister event on it, so a cancellation comes after its pauses and modules. */
  const contractLast = new Map<number, number>();
  const touch = (contract: WorldContract, at: number) => contractLast.set(contract.id, Math.max(at, contractLast.get(contract.id) ?? 0));

  // Contracts generated cancelled (former members) say so when it happened.
  for (const contract of world.contracts) {
    const at = contract.createdAt + 2 * DAY;
    if (contract.cancelled && at < endAt) {
      pending.push({
        studioId: customerOf(contract).studioId,
        entityId: contract.customerId,
        timestamp: at,
        type: 'CONTRACT_CANCELLED',
        content: { contractId: contract.id },
      });
    }
  }
  const running = world.contracts.filter((c) => !c.cancelled);

  // Access media.
  const holders: { customer: WorldCustomer; mediumId: number; at: number }[] = [];
  some(world.contracts, 0.6, (contract) => {
    const customer = customerOf(contract);
    const at = between(contract.createdAt + 5 * MINUTE, Math.min(endAt, contract.createdAt + 2 * HOUR));
    if (at === null || customer.accessMedia.length > 0) return false;
    holders.push({
      customer,
      mediumId: world.addAccessMedium(customer.id, r.pick(['CARD', 'CARD', 'WRISTBAND', 'KEY_FOB'] as const), at).id,
      at,
    });
    return true;
  });
  const replaced = some(holders, 0.1, (h) => {
    const at = between(h.at + HOUR, endAt);
    if (at !== null) world.replaceAccessMedium(h.customer.id, h.mediumId, at);
    return at !== null;
  });
  some(
    holders.filter((h) => !replaced.includes(h)),
    0.05,
    (h) => {
      const at = between(h.at + HOUR, endAt);
      if (at !== null) world.removeAccessMedium(h.customer.id, h.mediumId, at);
      return at !== null;
    },
  );

  // Access restrictions.
  const restricted: { customer: WorldCustomer; restrictionId: number; at: number }[] = [];
  some(customers, 0.05, (customer) => {
    const at = between(customer.createdAt + DAY, endAt - HOUR);
    if (at === null) return false;
    restricted.push({
      customer,
      restrictionId: world.addAccessRestriction(customer.id, r.pick(['Unpaid fees', 'House rules', 'Medical certificate missing']), at).id,
      at,
    });
    return true;
  });
  some(restricted, 0.5, (x) => {
    const at = between(x.at + HOUR, endAt);
    if (at !== null) world.liftAccessRestriction(x.customer.id, x.restrictionId, at);
    return at !== null;
  });

  // Check-in studios.
  if (world.studios.length > 1) {
    some(running, 0.05, (contract) => {
      const at = between(contract.createdAt + HOUR, endAt);
      if (at === null) return false;
      const home = customerOf(contract).studioId;
      const other = r.pick(world.studios.filter((s) => s.id !== home)).id;
      world.updateCheckinStudios(contract.id, r.chance(0.5) ? world.studios.map((s) => s.id) : [home, other], at);
      touch(contract, at);
      return true;
    });
  }

  // Idle periods.
  const paused: { contract: WorldContract; idleId: number; last: number; unlimited: boolean; startDate: string }[] = [];
  some(running, 0.06, (contract) => {
    const at = between(contract.createdAt + HOUR, endAt - HOUR);
    if (at === null) return false;
    const start = at + r.int(1, 14) * DAY;
    const unlimited = r.chance(0.1);
    const idle = world.addIdlePeriod(
      contract.id,
      {
        startDate: isoDate(start),
        endDate: unlimited ? null : isoDate(start + r.int(6, 27) * DAY),
        reason: r.pick(['Vacation', 'Illness', 'Parental leave']),
        free: r.chance(0.6),
      },
      at,
    );
    paused.push({ contract, idleId: idle.id, last: at, unlimited, startDate: idle.startDate });
    touch(contract, at);
    return true;
  });
  some(paused, 1 / 3, (p) => {
    const at = between(p.last + HOUR, endAt);
    if (at === null) return false;
    const idle = p.contract.idlePeriods.find((i) => i.id === p.idleId)!;
    const endDate =
      idle.endDate === null ? isoDate(Date.parse(p.startDate) + 30 * DAY) : isoDate(Date.parse(idle.endDate) + r.int(3, 14) * DAY);
    world.updateIdlePeriod(p.contract.id, p.idleId, endDate, at);
    p.last = at;
    touch(p.contract, at);
    return true;
  });
  some(paused, 1 / 4, (p) => {
    const at = between(p.last + HOUR, endAt);
    if (at !== null) {
      world.cancelIdlePeriod(p.contract.id, p.idleId, at);
      touch(p.contract, at);
    }
    return at !== null;
  });

  // Additional modules.
  const modules: { contract: WorldContract; moduleContractId: number; last: number }[] = [];
  some(running, 0.1, (contract) => {
    const at = between(contract.createdAt + HOUR, endAt - HOUR);
    if (at === null) return false;
    const [rateName, price] = r.pick(MODULES);
    modules.push({ contract, moduleContractId: world.addAdditionalModule(contract.id, rateName, price, at).moduleContractId, last: at });
    touch(contract, at);
    return true;
  });
  some(modules, 1 / 4, (m) => {
    const at = between(m.last + HOUR, endAt);
    if (at === null) return false;
    const module = m.contract.additionalModules.find((x) => x.moduleContractId === m.moduleContractId)!;
    world.updateAdditionalModule(
      m.contract.id,
      m.moduleContractId,
      r.chance(0.5) ? { price: module.price.amount + 1 } : { rateName: `${module.rateName} Plus` },
      at,
    );
    m.last = at;
    touch(m.contract, at);
    return true;
  });
  const ending = shuffled(modules);
  const cancelCount = Math.max(1, Math.round(modules.length / 4));
  some(ending.slice(0, cancelCount), 1, (m) => {
    const at = between(m.last + HOUR, endAt);
    if (at !== null) {
      world.cancelAdditionalModule(m.contract.id, m.moduleContractId, at);
      touch(m.contract, at);
    }
    return at !== null;
  });
  some(ending.slice(cancelCount), 1 / 6, (m) => {
    const at = between(m.last + HOUR, endAt);
    if (at !== null) {
      world.deleteAdditionalModule(m.contract.id, m.moduleContractId, at);
      touch(m.contract, at);
    }
    return at !== null;
  });

  // Cancellations of running contracts, after whatever else happened to them.
  some(running, 0.05, (contract) => {
    const at = between(Math.max(contract.createdAt, contractLast.get(contract.id) ?? 0) + HOUR, endAt);
    if (at !== null) world.cancelContract(contract.id, at);
    return at !== null;
  });

  // Staff and studio settings.
  world.studios.forEach((studio, index) => {
    const always = index === 0;
    const staff = [...world.employees.values()].filter((e) => e.studioId === studio.id && e.deletedAt === null && e.createdAt < startAt);
    if (always || r.chance(0.5)) {
      const at = between(startAt, endAt);
      if (at !== null) world.createEmployee(studio.id, {}, at);
    }
    const [changed, removed] = shuffled(staff.slice(1)); // the manager (first) stays
    if (changed && (always || r.chance(0.6))) {
      const at = between(startAt, endAt);
      if (at !== null) {
        world.updateEmployee(
          changed.id,
          r.chance(0.5)
            ? { businessRole: r.pick(EMPLOYEE_ROLES) }
            : { email: `${changed.firstName}.${changed.id}@staff.example.com`.toLowerCase() },
          at,
        );
      }
    }
    if (removed && (always || r.chance(0.25))) {
      const at = between(startAt, endAt);
      if (at !== null) world.deleteEmployee(removed.id, at);
    }
    if (always || r.chance(0.5)) {
      const at = between(startAt, endAt);
      if (at !== null) {
        const weekend: WorldOpeningHours[] = r.chance(0.5)
          ? [{ dayOfWeekFrom: 'SATURDAY', dayOfWeekTo: 'SUNDAY', timeFrom: '09:00', timeTo: '18:00' }]
          : [
              { dayOfWeekFrom: 'SATURDAY', dayOfWeekTo: 'SATURDAY', timeFrom: '08:00', timeTo: '20:00' },
              { dayOfWeekFrom: 'SUNDAY', dayOfWeekTo: 'SUNDAY', timeFrom: '10:00', timeTo: '16:00' },
            ];
        const closedOn = isoDate(at + r.int(3, 20) * DAY);
        world.updateOpeningHours(
          studio.id,
          {
            openingHours: [...studio.openingHours.filter((h) => DAYS_OF_WEEK.indexOf(h.dayOfWeekFrom) < 5), ...weekend],
            closingHours: [
              ...studio.closingHours,
              {
                reason: r.pick(['Public holiday', 'Staff training', 'Maintenance']),
                from: localMidnight(closedOn, world.zone),
                to: localMidnight(isoDate(Date.parse(closedOn) + DAY), world.zone),
              },
            ],
          },
          at,
        );
      }
    }
    if (always || r.chance(0.3)) {
      const at = between(startAt, endAt);
      const name = FIELD_NAMES.find((n) => !studio.additionalInformationFields.some((f) => f.name === n));
      if (at !== null && name)
        world.addAdditionalInformationField(studio.id, name, r.pick(['TEXT', 'NUMBER', 'BOOLEAN', 'DATE'] as const), at);
    }
    if (always || r.chance(0.3)) {
      const at = between(startAt, endAt);
      if (at !== null)
        world.updateDebtCollectionConfiguration(
          studio.id,
          { agencyHandoverAfterDays: r.pick([30, 45, 90]), dunningLevels: r.pick([2, 3, 4]) },
          at,
        );
    }
  });

  // Debt-collection cases: a partial payment, a hand-over to an agency, or paid off.
  for (const debtCase of world.debtCollectionCases.values()) {
    let last = startAt;
    for (let n = r.int(1, 2); n > 0; n--) {
      const at = between(last, endAt);
      if (at === null) break;
      const paid = Math.round(debtCase.openAmount * r.pick([0.25, 0.5]) * 100) / 100;
      world.adjustDebtCollectionCase(
        debtCase.collectionCaseId,
        debtCase.agencyDebtCollectionCaseId === null && r.chance(0.4)
          ? { toAgency: true }
          : r.chance(0.3)
            ? { status: 'PAID', openAmount: 0 }
            : { openAmount: debtCase.openAmount - paid },
        at,
      );
      last = at + HOUR;
    }
  }

  // Home-studio moves and disabled access come last for their customer, after all it did.
  const CUSTOMER_KEYED = /^(CUSTOMER_|CONTRACT_|AGGREGATOR_MEMBER_)/;
  const lastActivity = (customer: WorldCustomer): number => {
    let last = customer.createdAt;
    for (const p of pending) if (p.entityId === customer.id && CUSTOMER_KEYED.test(p.type)) last = Math.max(last, p.timestamp);
    for (const b of world.classBookings.values()) if (b.customerId === customer.id) last = Math.max(last, b.bookedAt, b.cancelledAt ?? 0);
    for (const b of world.appointmentBookings.values())
      if (b.customerId === customer.id) last = Math.max(last, b.bookedAt, b.cancelledAt ?? 0);
    return last;
  };
  const moved =
    world.studios.length < 2
      ? []
      : some(customers, 0.03, (customer) => {
          const at = between(lastActivity(customer) + MINUTE, endAt - MINUTE);
          if (at !== null) world.moveHomeStudio(customer.id, r.pick(world.studios.filter((s) => s.id !== customer.studioId)).id, at);
          return at !== null;
        });
  some(
    customers.filter((c) => !moved.includes(c)),
    0.02,
    (customer) => {
      if (world.checkins.some((c) => c.customerId === customer.id && c.checkOutAt === null)) return false;
      const at = between(lastActivity(customer) + MINUTE, endAt - MINUTE);
      if (at !== null) world.disableCustomerAccess(customer.id, at);
      return at !== null;
    },
  );
}
