// Identities the planner shares requests and cache entries by: two alerts whose filters mean the
// same thing are one filter set, however their YAML spells them.
import type { AlertFilters, GroupByField } from '../../../config/schema.js';

/** A groupBy field, or '' for the total of an alert without groupBy. */
export type Dimension = GroupByField | '';

const LIST_KEYS = ['environment', 'traceName', 'model', 'userId', 'release', 'tags'] as const;

/** An alert's queries share its filters object: each is keyed once. */
const keyOf = new WeakMap<AlertFilters, string>();

/** Canonical JSON of a filter set: `any of` lists are sets, metadata pairs are unordered. */
export function filterKey(filters: AlertFilters): string {
  let key = keyOf.get(filters);
  if (key === undefined) keyOf.set(filters, (key = canonicalKey(filters)));
  return key;
}

function canonicalKey(filters: AlertFilters): string {
  const canonical: Record<string, unknown> = {};
  for (const key of LIST_KEYS) {
    const value = filters[key];
    if (value === undefined) continue;
    canonical[key] = [...new Set(typeof value === 'string' ? [value] : value)].sort();
  }
  const metadata = Object.entries(filters.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (metadata.length > 0) canonical['metadata'] = metadata;
  return JSON.stringify(canonical);
}
