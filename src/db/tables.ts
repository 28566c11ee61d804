/**
 * The name of every table of ours, spelled once: the entities (`@Entity(TABLES.customers)`), the
 * projectors' record specs and every statement written by hand (`FROM ${TABLES.customers} c`) take
 * it from here, so a rename is one line here plus a migration. The key is the table's name itself,
 * so that code reads like the SQL it writes and a search for a table finds every use.
 *
 * Every name is lower-case and unquoted-safe: `customers` and `"customers"` are the same table on
 * SQLite and PostgreSQL alike, so a statement may quote it or not.
 *
 * The migrations (src/migrations/) keep their literals on purpose: a migration is history and must
 * create what existed at its time, even after a table here is renamed. TypeORM's own `migrations`
 * table is not ours and not listed. test/migrations.test.ts checks that the entities, the migrated
 * database and this list name the same tables.
 */
export const TABLES = {
  aggregator_memberships: 'aggregator_memberships',
  api_tokens: 'api_tokens',
  appointment_bookings: 'appointment_bookings',
  automatic_checkouts: 'automatic_checkouts',
  class_bookings: 'class_bookings',
  class_slots: 'class_slots',
  classes: 'classes',
  communication_preferences: 'communication_preferences',
  contract_additional_modules: 'contract_additional_modules',
  contract_idle_periods: 'contract_idle_periods',
  contracts: 'contracts',
  customer_studios: 'customer_studios',
  customers: 'customers',
  debt_collection_cases: 'debt_collection_cases',
  debt_collection_configurations: 'debt_collection_configurations',
  debt_collection_runs: 'debt_collection_runs',
  devices: 'devices',
  employees: 'employees',
  events: 'events',
  hydration_jobs: 'hydration_jobs',
  log_cursors: 'log_cursors',
  studios: 'studios',
  tax_advisor_exports: 'tax_advisor_exports',
  tenants: 'tenants',
  visit_rollups: 'visit_rollups',
  visits: 'visits',
} as const;

// Each key is its table's name, checked here: a rename renames the key too, so every use says it.
TABLES satisfies { readonly [K in keyof typeof TABLES]: K };

/** The name of one of our tables. */
export type TableName = (typeof TABLES)[keyof typeof TABLES];
