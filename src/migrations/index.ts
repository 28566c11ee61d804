import { Initial1764000000000 } from './1764000000000-initial.js';
import { ApiAccess1764000000001 } from './1764000000001-api-access.js';
import { RecordRelations1764000000002 } from './1764000000002-record-relations.js';
import { Hydration1764000000003 } from './1764000000003-hydration.js';
import { CustomerStudioPresence1764000000004 } from './1764000000004-customer-studio-presence.js';
import { DeliveryDigest1764000000005 } from './1764000000005-delivery-digest.js';
import { StudioTimeZone1764000000006 } from './1764000000006-studio-time-zone.js';
import { TokenManagement1764000000007 } from './1764000000007-token-management.js';
import { VisitRollups1764000000009 } from './1764000000009-visit-rollups.js';
import { ListsAndPresence1764000000010 } from './1764000000010-lists-and-presence.js';
import { ReportIndexes1764000000011 } from './1764000000011-report-indexes.js';
import { CustomerAccess1764000000012 } from './1764000000012-customer-access.js';
import { ContractParts1764000000013 } from './1764000000013-contract-parts.js';
import { Employees1764000000014 } from './1764000000014-employees.js';
import { StudioChanges1764000000015 } from './1764000000015-studio-changes.js';
import { DebtCollectionCases1764000000016 } from './1764000000016-debt-collection-cases.js';
import { VisitCheckoutIndex1764000000017 } from './1764000000017-visit-checkout-index.js';

/** Every migration, oldest first. They run at start-up, on SQLite and PostgreSQL alike. */
export const MIGRATIONS = [
  Initial1764000000000,
  ApiAccess1764000000001,
  RecordRelations1764000000002,
  Hydration1764000000003,
  CustomerStudioPresence1764000000004,
  DeliveryDigest1764000000005,
  StudioTimeZone1764000000006,
  TokenManagement1764000000007,
  VisitRollups1764000000009,
  ListsAndPresence1764000000010,
  ReportIndexes1764000000011,
  CustomerAccess1764000000012,
  ContractParts1764000000013,
  Employees1764000000014,
  StudioChanges1764000000015,
  DebtCollectionCases1764000000016,
  VisitCheckoutIndex1764000000017,
];
