// Identities the planner shares requests and cache entries by: two alerts whose filters mean the
// same thing are one filter set, however their YAML spells them.
import type { AlertFilters, GroupByField } from '../../../config/schema.js';
import type { QueryShape } from '../../../core/query.js';

/**
 * A groupBy field; a pair of them (`within>by`, groups keyed by `pairKey`); or '' for the total of
 * an alert without groupBy. A request fills every dimension of the fields it asks for.
 */
export type Dimension = GroupByField | PairDimension | '';
type PairDimension = `${GroupByField}>${GroupByField}`;

/** The dimension a query that isn't a top-N reads. */
export function dimensionOf(shape: Exclude<QueryShape, { kind: 'topN' }>): Dimension {
  switch (shape.kind) {
    case 'total':
      return '';
    case 'groups':
      return shape.by;
    case 'pairs':
      return `${shape.within}>${shape.by}`;
  }
}

/** The groupBy fields a dimension is made of, each once: none for the total, a pair's two (within, by). */
export function dimensionFields(dim: Dimension): GroupByField[] {
  return dim === '' ? [] : [...new Set(dim.split('>') as GroupByField[])];
}

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
