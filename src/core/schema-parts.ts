// Pieces of zod schemas that the rule definitions (./rules/*), the channel definitions
// (src/channels/*) and the config schema of alerts.yaml are written with.
import * as z from 'zod/mini';

/**
 * A copy of `schema` with a description, shown by editors through the JSON Schema. A copy, as
 * zod's own `.describe()` makes one: one schema described in two places keeps both descriptions.
 */
export function describe<T extends z.ZodMiniType>(schema: T, description: string): T {
  const described = schema.clone() as T;
  z.globalRegistry.add(described, { description });
  return described;
}

/** An amount of USD. */
export const usd = (): z.ZodMiniNumber => z.number().check(z.nonnegative());

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const nonEmpty = (): z.ZodMiniString => z.string().check(z.minLength(1));
