// Spend is shown in USD the way finance people read it. Sub-cent amounts (a single cheap call, a
// tiny baseline) keep up to four significant digits so they don't all collapse to "$0.00".
const cents = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

const subCent = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumSignificantDigits: 4,
});

/** `$61.25`, `$1,234.50`, `$0.0042`, `$0.00` */
export function formatUsd(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && magnitude < 0.01) return subCent.format(value);
  // -0 (e.g. a rounded refund) would print as "-$0.00"
  return cents.format(value === 0 ? 0 : value);
}
