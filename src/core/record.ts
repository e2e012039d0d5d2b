// Untrusted parsed data (a YAML document, a JSON state file) is read key by key only once it is
// known to be a mapping: not null, not a list, not a single value.

/** True for a plain mapping of keys to values; false for null, lists, strings, numbers… */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value when it is a mapping, else undefined: for reading nested keys with `?.`. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}
