// First: type-graphql's decorators (the areas' GraphQL types, reached through ingest) need the polyfill loaded.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import { loadPresenceConfig } from '../config.js';
import { Contract } from '../domains/contracts/contract.entity.js';
import { isPresent } from '../domains/customers/presence.js';
import { Customer } from '../domains/customers/customer.entity.js';
import { EventRecord } from '../domains/events/event-record.entity.js';
import { Studio } from '../domains/studios/studio.entity.js';
import { Visit } from '../domains/visits/visit.entity.js';
import { UsageError, runCli } from './run-cli.js';

const USAGE = `usage: npm run inspect -- <command>

  events [--studio <id>] [--limit <n>]      the newest events in the log (default 10)
  customer --studio <id> --customer <id>    a customer record with its visits and contracts

Prints JSON. The database is DATABASE_URL (default: the SQLite file data/gymgraph.sqlite).`;

function positiveInt(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined && fallback !== undefined) return fallback;
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value <= 0)
    throw new UsageError(`--${name} expects a positive integer, got ${JSON.stringify(raw ?? null)}`);
  return value;
}

const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : value);
const plain = (row: object) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, iso(v)]));

async function customer(dataSource: DataSource, studioId: number, customerId: number) {
  const studio = await dataSource.getRepository(Studio).findOne({ where: { id: studioId } });
  if (!studio) throw new UsageError(`no studio with id ${studioId}`);
  const where = { tenantId: studio.tenantId, customerId };
  const record = await dataSource.getRepository(Customer).findOne({ where });
  if (!record) return { customer: null };
  const [visits, contracts] = await Promise.all([
    dataSource.getRepository(Visit).find({ where, order: { checkinAt: 'DESC' }, take: 20 }),
    dataSource.getRepository(Contract).find({ where }),
  ]);
  const checkedIn = record.deletedAt === null && isPresent(record.lastCheckinAt, record.lastCheckoutAt, loadPresenceConfig());
  return { customer: { ...plain(record), checkedIn }, visits: visits.map(plain), contracts: contracts.map(plain) };
}

void runCli(USAGE, async (dataSource, out) => {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: { studio: { type: 'string' }, limit: { type: 'string' }, customer: { type: 'string' } },
  });
  switch (command) {
    case 'events': {
      const studioId = values.studio === undefined ? undefined : positiveInt('studio', values.studio);
      const events = await dataSource.getRepository(EventRecord).find({
        where: studioId === undefined ? {} : { studioId },
        order: { seq: 'DESC' },
        take: positiveInt('limit', values.limit, 10),
      });
      for (const event of events.reverse())
        out(JSON.stringify({ ...plain(event), content: event.content === null ? null : JSON.parse(event.content) }));
      return;
    }
    case 'customer':
      out(
        JSON.stringify(await customer(dataSource, positiveInt('studio', values.studio), positiveInt('customer', values.customer)), null, 2),
      );
      return;
    default:
      throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command given');
  }
});
