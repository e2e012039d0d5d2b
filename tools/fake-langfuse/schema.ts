// The zod schema Langfuse parses `?query=` with (web/src/features/public-api/types/metrics.ts),
// rebuilt so that a bad query gets the same issues, paths and messages as from the real server.
// zod/mini, as the configuration schema is: one zod flavour in the project.
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { AGGREGATIONS, FILTER_OPERATORS, GRANULARITIES, VIEWS, type ApiVersion } from './contract.js';

// Langfuse's messages are zod's English ones; zod/mini starts without any.
z.config(en());

// Langfuse's zod prints its own `z.iso.datetime({ offset: true })` pattern (seconds optional), which
// differs from the one of the zod bundled here; the recorded error bodies carry this one.
const ISO_DATETIME =
  /^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))T(?:(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|([+-](?:[01]\d|2[0-3]):[0-5]\d)))$/;

const isoDateTime = z.string().check(
  z.superRefine((value, ctx) => {
    if (!ISO_DATETIME.test(value)) {
      ctx.addIssue({
        origin: 'string',
        code: 'invalid_format',
        format: 'datetime',
        pattern: ISO_DATETIME.toString(),
        message: 'Invalid ISO datetime',
      });
    }
  }),
);

const singleFilter = z.discriminatedUnion('type', [
  z.object({
    column: z.string(),
    operator: z.enum(FILTER_OPERATORS.datetime),
    value: z.coerce.date(),
    type: z.literal('datetime'),
  }),
  z.object({
    column: z.string(),
    operator: z.enum(FILTER_OPERATORS.string),
    value: z.string(),
    type: z.literal('string'),
  }),
  z.object({
    column: z.string(),
    operator: z.enum(FILTER_OPERATORS.number),
    value: z.number(),
    type: z.literal('number'),
  }),
  z.object({
    column: z.string(),
    operator: z.enum(FILTER_OPERATORS.stringOptions),
    value: z.array(z.string()).check(z.refine((v) => v.length > 0)),
    type: z.literal('stringOptions'),
  }),
  z.object({
    type: z.literal('categoryOptions'),
    column: z.string(),
    key: z.string(),
    operator: z.enum(FILTER_OPERATORS.categoryOptions),
    value: z.array(z.string()),
  }),
  z
    .object({
      column: z.string(),
      operator: z.enum(FILTER_OPERATORS.arrayOptions),
      value: z.array(z.string()),
      type: z.literal('arrayOptions'),
    })
    .check(
      z.refine((f) => f.operator === 'all of' || f.operator === 'none of' || f.value.length > 0, {
        message:
          "Value array must not be empty unless operator is 'all of' or 'none of' (which represent waiting for selection)",
      }),
    ),
  z.object({
    type: z.literal('stringObject'),
    column: z.string(),
    key: z.string(),
    operator: z.enum(FILTER_OPERATORS.string),
    value: z.string(),
  }),
  z.object({
    type: z.literal('numberObject'),
    column: z.string(),
    key: z.string(),
    operator: z.enum(FILTER_OPERATORS.number),
    value: z.number(),
  }),
  z.object({
    type: z.literal('booleanObject'),
    column: z.string(),
    key: z.string(),
    operator: z.enum(FILTER_OPERATORS.booleanObject),
    value: z.boolean(),
  }),
  z.object({
    type: z.literal('boolean'),
    column: z.string(),
    operator: z.enum(FILTER_OPERATORS.boolean),
    value: z.boolean(),
  }),
  z.object({
    type: z.literal('null'),
    column: z.string(),
    operator: z.enum(FILTER_OPERATORS.null),
    value: z.literal(''),
  }),
  z
    .object({
      type: z.literal('positionInTrace'),
      column: z.string(),
      operator: z.literal('='),
      key: z.enum(['root', 'first', 'last', 'nthFromEnd', 'nthFromStart']),
      value: z.optional(z.number()),
    })
    .check(
      z.superRefine((f, ctx) => {
        if ((f.key === 'nthFromEnd' || f.key === 'nthFromStart') && (!f.value || f.value < 1)) {
          ctx.addIssue({ code: 'custom', message: 'Position must be >= 1 for nth selection', path: ['value'] });
        }
      }),
    ),
]);

export type MetricsFilter = z.infer<typeof singleFilter>;

const metricsQuery = (version: ApiVersion) =>
  z
    .object({
      view: z.enum(VIEWS[version] as [string, ...string[]]),
      dimensions: z._default(z.optional(z.array(z.object({ field: z.string() }))), []),
      metrics: z.array(z.object({ measure: z.string(), aggregation: z.enum(AGGREGATIONS) })),
      filters: z._default(z.optional(z.array(singleFilter)), []),
      timeDimension: z._default(z.optional(z.nullable(z.object({ granularity: z.enum(GRANULARITIES) }))), null),
      fromTimestamp: isoDateTime,
      toTimestamp: isoDateTime,
      orderBy: z._default(z.optional(z.nullable(z.array(z.object({ field: z.string(), direction: z.enum(['asc', 'desc']) })))), null),
      config: z.optional(
        z.object({
          bins: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100))),
          row_limit: z.optional(z.number().check(z.int(), z.positive(), z.lte(1000))),
        }),
      ),
    })
    .check(
      z.refine((q) => new Date(q.fromTimestamp).getTime() < new Date(q.toTimestamp).getTime(), {
        message: 'fromTimestamp must be before toTimestamp',
      }),
    );

const QUERY_SCHEMAS = { v1: metricsQuery('v1'), v2: metricsQuery('v2') };

export type MetricsQuery = z.infer<(typeof QUERY_SCHEMAS)['v2']>;

const queryParam = z.object({ query: z.string() });

export type ParsedQuery =
  | { ok: true; query: MetricsQuery }
  | { ok: false; invalidJson: true }
  | { ok: false; invalidJson: false; issues: unknown[] };

// Langfuse parses `{query: JSON.parse(req.query.query)}` in one schema, so every issue path starts
// with "query"; a JSON syntax error is thrown from inside it as an InvalidRequestError.
export function parseMetricsQuery(version: ApiVersion, raw: string | string[] | undefined): ParsedQuery {
  const param = queryParam.safeParse({ query: raw });
  if (!param.success) return { ok: false, invalidJson: false, issues: param.error.issues };
  let decoded: unknown;
  try {
    decoded = JSON.parse(param.data.query);
  } catch {
    return { ok: false, invalidJson: true };
  }
  const parsed = QUERY_SCHEMAS[version].safeParse(decoded);
  if (!parsed.success) {
    return {
      ok: false,
      invalidJson: false,
      issues: parsed.error.issues.map((issue) => ({ ...issue, path: ['query', ...issue.path] })),
    };
  }
  return { ok: true, query: parsed.data };
}
