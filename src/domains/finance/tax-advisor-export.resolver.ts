import { createdRecordResolver } from '../created-record.resolver.js';
import { TaxAdvisorExport } from './tax-advisor-export.entity.js';

/** `taxAdvisorExport(id)`, `taxAdvisorExports(filter, orderBy)` and `TaxAdvisorExport.studio`. */
export const TaxAdvisorExportResolver = createdRecordResolver(TaxAdvisorExport, {
  typeName: 'TaxAdvisorExport',
  noun: 'tax-advisor export',
  nouns: 'tax-advisor exports',
  one: 'taxAdvisorExport',
  many: 'taxAdvisorExports',
  idField: 'exportId',
  idOrderName: 'EXPORT_ID',
  createdBy: 'TAX_ADVISOR_EXPORT_CREATED',
  alias: 'taxExport',
});
