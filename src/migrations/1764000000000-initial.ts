import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first schema: studios and tenants, the event log and one table per record type.
 * Written once per dialect (TypeORM's own DDL for the entities, checked by test/migrations.test.ts),
 * because SQLite and PostgreSQL differ in autoincrement and types.
 */
export class Initial1764000000000 implements MigrationInterface {
  name = 'Initial1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = queryRunner.connection.driver.options.type === 'postgres' ? POSTGRES : SQLITE;
    for (const sql of statements) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of DROP_ORDER) await queryRunner.query(`DROP TABLE "${table}"`);
  }
}

const DROP_ORDER = [
  'visits',
  'studios',
  'tenants',
  'tax_advisor_exports',
  'debt_collection_runs',
  'events',
  'devices',
  'customers',
  'contracts',
  'class_slots',
  'class_bookings',
  'appointment_bookings',
  'aggregator_memberships',
];

const SQLITE = [
  `CREATE TABLE "aggregator_memberships" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "customerId" bigint NOT NULL, "aggregatorId" varchar(200) NOT NULL, "createdAt" bigint NOT NULL)`,
  `CREATE UNIQUE INDEX "aggregator_memberships_key" ON "aggregator_memberships" ("tenantId", "customerId", "aggregatorId") `,
  `CREATE TABLE "appointment_bookings" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "bookingId" bigint NOT NULL, "status" varchar(16) NOT NULL, "statusAt" bigint NOT NULL, "createdAt" bigint, "updatedAt" bigint, "cancelledAt" bigint)`,
  `CREATE UNIQUE INDEX "appointment_bookings_key" ON "appointment_bookings" ("tenantId", "bookingId") `,
  `CREATE TABLE "class_bookings" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "bookingId" bigint NOT NULL, "status" varchar(16) NOT NULL, "statusAt" bigint NOT NULL, "createdAt" bigint, "updatedAt" bigint, "cancelledAt" bigint)`,
  `CREATE UNIQUE INDEX "class_bookings_key" ON "class_bookings" ("tenantId", "bookingId") `,
  `CREATE TABLE "class_slots" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "slotId" bigint NOT NULL, "classId" bigint NOT NULL, "status" varchar(16) NOT NULL, "statusAt" bigint NOT NULL, "updatedAt" bigint, "cancelledAt" bigint)`,
  `CREATE INDEX "class_slots_class" ON "class_slots" ("tenantId", "classId") `,
  `CREATE UNIQUE INDEX "class_slots_key" ON "class_slots" ("tenantId", "slotId") `,
  `CREATE TABLE "contracts" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "contractId" bigint NOT NULL, "customerId" bigint NOT NULL, "createdAt" bigint, "updatedAt" bigint)`,
  `CREATE INDEX "contracts_customer" ON "contracts" ("tenantId", "customerId") `,
  `CREATE UNIQUE INDEX "contracts_key" ON "contracts" ("tenantId", "contractId") `,
  `CREATE TABLE "customers" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "customerId" bigint NOT NULL, "createdAt" bigint, "updatedAt" bigint, "communicationPreferencesUpdatedAt" bigint, "deletedAt" bigint, "lastCheckinAt" bigint, "lastCheckinStudioId" integer, "lastCheckoutAt" bigint)`,
  `CREATE INDEX "customers_presence" ON "customers" ("lastCheckinStudioId", "lastCheckinAt") `,
  `CREATE UNIQUE INDEX "customers_key" ON "customers" ("tenantId", "customerId") `,
  `CREATE TABLE "devices" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "deviceId" bigint NOT NULL, "createdAt" bigint NOT NULL)`,
  `CREATE UNIQUE INDEX "devices_key" ON "devices" ("tenantId", "deviceId") `,
  `CREATE TABLE "events" ("seq" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "uuid" varchar(36) NOT NULL, "position" integer NOT NULL, "studioId" integer NOT NULL, "tenantId" integer NOT NULL, "type" varchar(100) NOT NULL, "known" boolean NOT NULL, "entityId" bigint NOT NULL, "content" text, "occurredAt" bigint NOT NULL, "receivedAt" bigint NOT NULL)`,
  `CREATE INDEX "events_type_seq" ON "events" ("type", "seq") `,
  `CREATE INDEX "events_studio_seq" ON "events" ("studioId", "seq") `,
  `CREATE INDEX "events_entity" ON "events" ("tenantId", "entityId", "occurredAt") `,
  `CREATE UNIQUE INDEX "events_delivery_key" ON "events" ("tenantId", "uuid", "position") `,
  `CREATE TABLE "debt_collection_runs" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "runId" bigint NOT NULL, "createdAt" bigint NOT NULL)`,
  `CREATE UNIQUE INDEX "debt_collection_runs_key" ON "debt_collection_runs" ("tenantId", "runId") `,
  `CREATE TABLE "tax_advisor_exports" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "exportId" bigint NOT NULL, "createdAt" bigint NOT NULL)`,
  `CREATE UNIQUE INDEX "tax_advisor_exports_key" ON "tax_advisor_exports" ("tenantId", "exportId") `,
  `CREATE TABLE "tenants" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(200) NOT NULL, "baseUrl" varchar(500), "createdAt" bigint NOT NULL)`,
  `CREATE UNIQUE INDEX "tenants_base_url" ON "tenants" ("baseUrl") `,
  `CREATE TABLE "studios" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "tenantId" integer NOT NULL, "name" varchar(200) NOT NULL, "webhookKeyHash" varchar(64) NOT NULL, "apiKey" varchar(500), "status" varchar(16) NOT NULL DEFAULT ('active'), "createdAt" bigint NOT NULL, "updatedAt" bigint NOT NULL, CONSTRAINT "studios_tenant" FOREIGN KEY ("tenantId") REFERENCES "tenants" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE UNIQUE INDEX "studios_webhook_key" ON "studios" ("webhookKeyHash") `,
  `CREATE TABLE "visits" ("id" bigint PRIMARY KEY NOT NULL, "tenantId" integer NOT NULL, "customerId" bigint NOT NULL, "studioId" integer NOT NULL, "checkinAt" bigint, "checkoutAt" bigint, "checkoutStudioId" integer, "checkoutSeq" bigint, "lastEventAt" bigint NOT NULL)`,
  `CREATE INDEX "visits_studio_checkin" ON "visits" ("studioId", "checkinAt") `,
  `CREATE INDEX "visits_customer" ON "visits" ("tenantId", "customerId", "checkinAt") `,
];

const POSTGRES = [
  `CREATE TABLE "aggregator_memberships" ("id" SERIAL NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "customerId" bigint NOT NULL, "aggregatorId" character varying(200) NOT NULL, "createdAt" bigint NOT NULL, PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "aggregator_memberships_key" ON "aggregator_memberships" ("tenantId", "customerId", "aggregatorId") `,
  `CREATE TABLE "appointment_bookings" ("id" SERIAL NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "bookingId" bigint NOT NULL, "status" character varying(16) NOT NULL, "statusAt" bigint NOT NULL, "createdAt" bigint, "updatedAt" bigint, "cancelledAt" bigint, PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "appointment_bookings_key" ON "appointment_bookings" ("tenantId", "bookingId") `,
  `CREATE TABLE "class_bookings" ("id" SERIAL NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "bookingId" bigint NOT NULL, "status" character varying(16) NOT NULL, "statusAt" bigint NOT NULL, "createdAt" bigint, "updatedAt" bigint, "cancelledAt" bigint, PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "class_bookings_key" ON "class_bookings" ("tenantId", "bookingId") `,
  `CREATE TABLE "class_slots" ("id" SERIAL NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "slotId" bigint NOT NULL, "classId" bigint NOT NULL, "status" character varying(16) NOT NULL, "statusAt" bigint NOT NULL, "updatedAt" bigint, "cancelledAt" bigint, PRIMARY KEY ("id"))`,
  `CREATE INDEX "class_slots_class" ON "class_slots" ("tenantId", "classId") `,
  `CREATE UNIQUE INDEX "class_slots_key" ON "class_slots" ("tenantId", "slotId") `,
  `CREATE TABLE "contracts" ("id" SERIAL NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "contractId" bigint NOT NULL, "customerId" bigint NOT NULL, "createdAt" bigint, "updatedAt" bigint, PRIMARY KEY ("id"))`,
  `CREATE INDEX "contracts_customer" ON "contracts" ("tenantId", "customerId") `,
  `CREATE UNIQUE INDEX "contracts_key" ON "contracts" ("tenantId", "contractId") `,
  `CREATE TABLE "customers" ("id" SERIAL NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "customerId" bigint NOT NULL, "createdAt" bigint, "updatedAt" bigint, "communicationPreferencesUpdatedAt" bigint, "deletedAt" bigint, "lastCheckinAt" bigint, "lastCheckinStudioId" integer, "lastCheckoutAt" bigint, PRIMARY KEY ("id"))`,
  `CREATE INDEX "customers_presence" ON "customers" ("lastCheckinStudioId", "lastCheckinAt") `,
  `CREATE UNIQUE INDEX "customers_key" ON "customers" ("tenantId", "customerId") `,
  `CREATE TABLE "devices" ("id" SERIAL NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "deviceId" bigint NOT NULL, "createdAt" bigint NOT NULL, PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "devices_key" ON "devices" ("tenantId", "deviceId") `,
  `CREATE TABLE "events" ("seq" BIGSERIAL NOT NULL, "uuid" character varying(36) NOT NULL, "position" integer NOT NULL, "studioId" integer NOT NULL, "tenantId" integer NOT NULL, "type" character varying(100) NOT NULL, "known" boolean NOT NULL, "entityId" bigint NOT NULL, "content" text, "occurredAt" bigint NOT NULL, "receivedAt" bigint NOT NULL, PRIMARY KEY ("seq"))`,
  `CREATE INDEX "events_type_seq" ON "events" ("type", "seq") `,
  `CREATE INDEX "events_studio_seq" ON "events" ("studioId", "seq") `,
  `CREATE INDEX "events_entity" ON "events" ("tenantId", "entityId", "occurredAt") `,
  `CREATE UNIQUE INDEX "events_delivery_key" ON "events" ("tenantId", "uuid", "position") `,
  `CREATE TABLE "debt_collection_runs" ("id" SERIAL NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "runId" bigint NOT NULL, "createdAt" bigint NOT NULL, PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "debt_collection_runs_key" ON "debt_collection_runs" ("tenantId", "runId") `,
  `CREATE TABLE "tax_advisor_exports" ("id" SERIAL NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "exportId" bigint NOT NULL, "createdAt" bigint NOT NULL, PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "tax_advisor_exports_key" ON "tax_advisor_exports" ("tenantId", "exportId") `,
  `CREATE TABLE "tenants" ("id" SERIAL NOT NULL, "name" character varying(200) NOT NULL, "baseUrl" character varying(500), "createdAt" bigint NOT NULL, PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "tenants_base_url" ON "tenants" ("baseUrl") `,
  `CREATE TABLE "studios" ("id" SERIAL NOT NULL, "tenantId" integer NOT NULL, "name" character varying(200) NOT NULL, "webhookKeyHash" character varying(64) NOT NULL, "apiKey" character varying(500), "status" character varying(16) NOT NULL DEFAULT 'active', "createdAt" bigint NOT NULL, "updatedAt" bigint NOT NULL, PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "studios_webhook_key" ON "studios" ("webhookKeyHash") `,
  `CREATE TABLE "visits" ("id" bigint NOT NULL, "tenantId" integer NOT NULL, "customerId" bigint NOT NULL, "studioId" integer NOT NULL, "checkinAt" bigint, "checkoutAt" bigint, "checkoutStudioId" integer, "checkoutSeq" bigint, "lastEventAt" bigint NOT NULL, PRIMARY KEY ("id"))`,
  `CREATE INDEX "visits_studio_checkin" ON "visits" ("studioId", "checkinAt") `,
  `CREATE INDEX "visits_customer" ON "visits" ("tenantId", "customerId", "checkinAt") `,
  `ALTER TABLE "studios" ADD CONSTRAINT "studios_tenant" FOREIGN KEY ("tenantId") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
];
