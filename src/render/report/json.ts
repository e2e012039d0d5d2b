// `report --format json`: the Report as PRODUCT.md shapes it (money is already clean, src/core/report.ts).
import type { Report } from '../../core/report.js';

export function renderReportJson(report: Report): string {
  return JSON.stringify(report, null, 2) + '\n';
}
