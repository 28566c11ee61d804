import { createdRecordResolver } from '../created-record.resolver.js';
import { DebtCollectionRun } from './debt-collection-run.entity.js';

/** `debtCollectionRun(id)`, `debtCollectionRuns(filter, orderBy)` and `DebtCollectionRun.studio`. */
export const DebtCollectionRunResolver = createdRecordResolver(DebtCollectionRun, {
  typeName: 'DebtCollectionRun',
  noun: 'debt-collection run',
  nouns: 'debt-collection runs',
  one: 'debtCollectionRun',
  many: 'debtCollectionRuns',
  idField: 'runId',
  idOrderName: 'RUN_ID',
  createdBy: 'FINANCE_DEBT_COLLECTION_RUN_CREATED',
  alias: 'run',
});
