// The JSON Schema editors use to check alerts.yaml as it is typed (schema/alerts.schema.json).
// It describes the file, not the loaded config: defaults are optional, and wherever a number,
// a boolean or a URL/pattern-shaped string is expected, a `${VAR}` reference is accepted too,
// because the loader interpolates (and converts) it first.
import { toJSONSchema } from 'zod/mini';
import { configSchema } from './schema.js';

type JsonSchema = { [key: string]: unknown };

const REFERENCE_DEFINITION = 'envReference';
const REFERENCE: JsonSchema = {
  type: 'string',
  pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}',
  description: 'An environment reference, ${VAR} or ${VAR:-default}, resolved when the file is loaded.',
};

/** Keywords that describe a value rather than constrain it: they stay next to the anyOf. */
const ANNOTATIONS = ['title', 'description', 'default'];

export function buildJsonSchema(): JsonSchema {
  const schema = toJSONSchema(configSchema, { io: 'input', target: 'draft-07' }) as JsonSchema;
  const transformed = acceptReferences(schema) as JsonSchema;
  return { ...transformed, definitions: { [REFERENCE_DEFINITION]: REFERENCE } };
}

/** The exact content of schema/alerts.schema.json. */
export function renderJsonSchema(): string {
  return `${JSON.stringify(buildJsonSchema(), null, 2)}\n`;
}

function isConstrainedScalar(node: JsonSchema): boolean {
  const type = node['type'];
  if (type === 'number' || type === 'integer' || type === 'boolean') return true;
  return type === 'string' && (node['pattern'] !== undefined || node['format'] !== undefined);
}

function acceptReferences(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(acceptReferences);
  if (typeof node !== 'object' || node === null) return node;
  const entries = Object.entries(node as JsonSchema).map(([key, value]): [string, unknown] =>
    // Keys are never interpolated, so their constraints stay as they are.
    key === 'propertyNames' ? [key, value] : [key, acceptReferences(value)],
  );
  const schema = Object.fromEntries(entries);
  if (!isConstrainedScalar(schema)) return schema;
  const annotations = Object.fromEntries(entries.filter(([key]) => ANNOTATIONS.includes(key)));
  const constraints = Object.fromEntries(entries.filter(([key]) => !ANNOTATIONS.includes(key)));
  return { ...annotations, anyOf: [constraints, { $ref: `#/definitions/${REFERENCE_DEFINITION}` }] };
}
