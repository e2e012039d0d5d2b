// Links into the Langfuse UI's traces and observations lists, filtered the way the UI writes its
// own filters into a URL: `encodeFiltersGeneric` in packages/shared/src/features/filters/filterQueryEncoding.ts
// of github.com/langfuse/langfuse (read at 62751446149b, v4.16).
import type { AlertFilters } from './alert.js';

/** `<base>/project/<id>`: the only form of langfuseUrl links can be built on. */
export function isProjectUrl(langfuseUrl: string): boolean {
  return /\/project\/[^/]+$/.test(langfuseUrl);
}

/** One filter of the UI's list: `any of` some values, or a metadata key `=` a value. */
type UiFilter =
  | { readonly column: string; readonly type: 'stringOptions' | 'arrayOptions'; readonly values: readonly string[] }
  | { readonly column: 'metadata'; readonly type: 'stringObject'; readonly key: string; readonly value: string };

/**
 * Which table a page shows depends on the user (Langfuse's v4 beta view: the events table on both
 * pages; otherwise the traces table on /traces, the observations table on /observations), and a
 * table silently drops a filter whose column it doesn't know. So where the tables name a field
 * differently the link carries each name, and each table keeps its own.
 */
const TAG_COLUMNS = {
  // the traces and events tables
  traces: ['traceTags'],
  // the observations table, then the events table
  observations: ['tags', 'traceTags'],
} as const;
// the observations table, then the events table; the traces table has no model
const MODEL_COLUMNS = ['model', 'providedModelName'] as const;

/** `\` and `|` inside a value escaped, so that `|` can join the values of one filter. */
function escapePipe(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

/**
 * `column;type;key;operator;value`, the value URL-encoded. The UI's own encoder leaves the key as
 * it is, but its decoder URL-decodes it: encoding it keeps a `;`, `,` or `%` in a metadata key
 * from splitting the filter or being read as an escape.
 */
function encodeFilter(filter: UiFilter): string {
  if (filter.type === 'stringObject') {
    return `${filter.column};${filter.type};${encodeURIComponent(filter.key)};=;${encodeURIComponent(filter.value)}`;
  }
  return `${filter.column};${filter.type};;any of;${encodeURIComponent(filter.values.map(escapePipe).join('|'))}`;
}

function listOf(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
}

/**
 * The UI's filters for an alert's filters on a page, in a fixed order (traceName, userId,
 * environment, release, tags, metadata by key, model) so that the same filters always give the
 * same URL, however they were configured. A field without values has no filter (the UI drops an
 * empty `any of` anyway).
 */
function uiFilters(filters: AlertFilters, page: 'traces' | 'observations'): UiFilter[] {
  const options = (columns: readonly string[], type: 'stringOptions' | 'arrayOptions', values: string[]): UiFilter[] =>
    values.length === 0 ? [] : columns.map((column) => ({ column, type, values }));
  return [
    ...options(['traceName'], 'stringOptions', listOf(filters.traceName)),
    ...options(['userId'], 'stringOptions', listOf(filters.userId)),
    ...options(['environment'], 'stringOptions', listOf(filters.environment)),
    // The traces table (the trace's release) and the events table (the observation's, what the
    // Metrics API v2 filters on) have a `release` column of type string; Langfuse's server takes
    // `any of` on a string column (COMPATIBLE_FILTER_TYPES), as the UI's own links do for userId,
    // so a list of releases fits one filter. The observations table has no release column and
    // drops it: there (a model's link, without the v4 view) the list shows every release.
    ...options(['release'], 'stringOptions', listOf(filters.release)),
    ...options(TAG_COLUMNS[page], 'arrayOptions', filters.tags ?? []),
    ...Object.entries(filters.metadata ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, value]): UiFilter => ({ column: 'metadata', type: 'stringObject', key, value })),
    ...options(MODEL_COLUMNS, 'stringOptions', listOf(filters.model)),
  ];
}

/** Epoch milliseconds of an instant given as a Date or an ISO 8601 string. */
function epochMs(instant: Date | string): number {
  const ms = (typeof instant === 'string' ? new Date(instant) : instant).getTime();
  if (Number.isNaN(ms)) throw new RangeError(`not an instant: ${String(instant)}`);
  return ms;
}

/** A lone UTF-16 surrogate in a filter: encodeURIComponent throws on it, and no URL can carry it. */
function hasLoneSurrogate(filter: UiFilter): boolean {
  const texts = filter.type === 'stringObject' ? [filter.key, filter.value] : filter.values;
  return texts.some((text) => /\p{Cs}/u.test(text));
}

/**
 * Langfuse's traces list (with a model in the filters: observations list) filtered as the UI
 * encodes it, over [from, to]. Null when langfuseUrl isn't a project link (`<base>/project/<id>`,
 * as for traceUrlOf in ./notification.ts), or when a value holds a lone surrogate (no link rather
 * than one to another value).
 */
export function filteredListUrl(
  langfuseUrl: string,
  filters: AlertFilters,
  range: { from: Date | string; to: Date | string },
): string | null {
  if (!isProjectUrl(langfuseUrl)) return null;
  const from = epochMs(range.from);
  const to = epochMs(range.to);
  if (from > to) throw new RangeError(`range from ${String(range.from)} is after to ${String(range.to)}`);
  const page = listOf(filters.model).length > 0 ? 'observations' : 'traces';
  const pageFilters = uiFilters(filters, page);
  if (pageFilters.some(hasLoneSurrogate)) return null;
  const encoded = pageFilters.map(encodeFilter).join(',');
  const filterParam = encoded === '' ? '' : `filter=${encodeURIComponent(encoded)}&`;
  return `${langfuseUrl}/${page}?${filterParam}dateRange=${from}-${to}`;
}
