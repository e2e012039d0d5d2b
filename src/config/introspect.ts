// Reads the zod schema at a document path: which scalar types a value may have there (so an
// interpolated "50" becomes 50 where a number is wanted) and which keys an object there knows
// (for "did you mean"). It walks zod 4's `_zod.def` definitions, as z.toJSONSchema does; tests
// cover both uses, so a zod upgrade that changes them fails loudly rather than silently.
import type { ZodMiniType } from 'zod/mini';
import type { ConfigPath } from './errors.js';

interface Def {
  readonly type: string;
  readonly shape?: Readonly<Record<string, Node>>;
  readonly element?: Node;
  readonly valueType?: Node;
  readonly options?: readonly Node[];
  readonly innerType?: Node;
  readonly in?: Node;
  readonly values?: readonly unknown[];
}
interface Node {
  readonly _zod: { readonly def: Def };
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

function unwrap(node: Node): Node {
  let current = node;
  for (;;) {
    const def = current._zod.def;
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

/** Every schema a value at `path` may be checked against (several under a union). */
function nodesAt(root: Node, path: ConfigPath): Node[] {
  let nodes = [unwrap(root)];
  for (const segment of path) {
    const next: Node[] = [];
    const visit = (node: Node): void => {
      const def = node._zod.def;
      if (def.type === 'union') for (const option of def.options ?? []) visit(unwrap(option));
      else if (def.type === 'object' && typeof segment === 'string' && def.shape?.[segment]) {
        next.push(unwrap(def.shape[segment]));
      }
      else if (def.type === 'record' && def.valueType) next.push(unwrap(def.valueType));
      else if (def.type === 'array' && typeof segment === 'number' && def.element) next.push(unwrap(def.element));
    };
    nodes.forEach(visit);
    nodes = next;
  }
  return nodes.flatMap((node) => (node._zod.def.type === 'union' ? (node._zod.def.options ?? []).map(unwrap) : [node]));
}

export type ScalarKind = 'string' | 'number' | 'boolean';

export function scalarKindsAt(schema: ZodMiniType, path: ConfigPath): Set<ScalarKind> {
  const kinds = new Set<ScalarKind>();
  for (const node of nodesAt(schema as unknown as Node, path)) {
    const def = node._zod.def;
    if (def.type === 'number' || def.type === 'boolean' || def.type === 'string') kinds.add(def.type);
    else if (def.type === 'enum' || def.type === 'literal') {
      for (const value of def.values ?? []) if (typeof value === 'string') kinds.add('string');
    }
  }
  return kinds;
}

/**
 * The keys an object at `path` may have. Under a union every option's keys count, except that
 * options whose literal `type` differs from the document's are left out, so a Slack channel is not
 * told about `smtpUrl`.
 */
export function knownKeysAt(schema: ZodMiniType, path: ConfigPath, typeInDocument: unknown): string[] {
  const keys = new Set<string>();
  for (const node of nodesAt(schema as unknown as Node, path)) {
    const shape = node._zod.def.type === 'object' ? node._zod.def.shape : undefined;
    if (!shape) continue;
    const literal = shape['type'] ? unwrap(shape['type'])._zod.def.values : undefined;
    if (literal && typeInDocument !== undefined && !literal.includes(typeInDocument)) continue;
    for (const key of Object.keys(shape)) keys.add(key);
  }
  return [...keys];
}
