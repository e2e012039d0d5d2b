// Spend is shown in USD the way finance people read it. Sub-cent amounts (a single cheap call, a
// tiny baseline) keep up to four significant digits so they don't all collapse to "$0.00".
// The formats are made on first use: building a currency format loads ICU data (~30 ms), which a
// `check` with nothing to say never needs.
let formats: { readonly cents: Intl.NumberFormat; readonly subCent: Intl.NumberFormat } | undefined;

function usdFormats(): NonNullable<typeof formats> {
  formats ??= {
    cents: new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    subCent: new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumSignificantDigits: 4 }),
  };
  return formats;
}

/** `$61.25`, `$1,234.50`, `$0.0042`, `$0.00` */
export function formatUsd(value: number): string {
  const magnitude = Math.abs(value);
  const { cents, subCent } = usdFormats();
  if (magnitude !== 0 && magnitude < 0.01) return subCent.format(value);
  // -0 (e.g. a rounded refund) would print as "-$0.00"
  return cents.format(value === 0 ? 0 : value);
}
