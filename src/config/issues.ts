// Zod's issues, retold for someone editing alerts.yaml: which key, what was expected, what was
// found (unless the key holds a secret) and, for typos, the closest known word.
import type * as core from 'zod/v4/core';
import type { ConfigPath } from './errors.js';
import { knownKeysAt } from './introspect.js';
import { configSchema, isSecretPath } from './schema.js';
import { didYouMean } from './suggest.js';

export interface Problem {
  readonly path: ConfigPath;
  readonly message: string;
  /** where to point: the key (unknown keys) or the value */
  readonly at: 'key' | 'value';
}

type Issue = core.$ZodIssue;

export function valueAt(document: unknown, path: ConfigPath): unknown {
  let current = document;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function kind(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  const text = String(value);
  return `the text ${JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)}`;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

export interface IssueContext {
  /** the interpolated document zod checked */
  readonly document: unknown;
  /** the `${…}` text a value came from, by path (JSON of the path) */
  readonly templates: ReadonlyMap<string, string>;
}

export function describeIssues(issues: readonly Issue[], context: IssueContext): Problem[] {
  return issues.flatMap((issue) => describeIssue(issue, context));
}

function describeIssue(issue: Issue, { document, templates }: IssueContext): Problem[] {
  const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
  const value = valueAt(document, path);
  const template = templates.get(JSON.stringify(path));
  const origin = template === undefined ? '' : ` (from ${template})`;
  const found = isSecretPath(path, document) ? '' : `, not ${kind(value)}${origin}`;
  const last = path[path.length - 1];
  const parent = path.slice(0, -1);

  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(configSchema, path, valueAt(document, [...path, 'type']));
      return issue.keys.map((key) => {
        const suggestion = didYouMean(key, known);
        const hint = suggestion !== '' || known.length === 0 ? suggestion : ` (known keys: ${known.join(', ')})`;
        return { path: [...path, key], at: 'key', message: `unknown key "${key}"${hint}` };
      });
    }
    case 'invalid_type': {
      if (value === undefined && last !== undefined) {
        return [{ path: parent, at: 'value', message: `missing required key "${last}"` }];
      }
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      const quote =
        issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')
          ? ` (quote it: "${String(value)}")`
          : '';
      return [{ path, at: 'value', message: `must be ${expected}${found}${quote}` }];
    }
    case 'invalid_union': {
      if (issue.discriminator !== undefined && 'options' in issue && issue.options !== undefined) {
        const options = issue.options.map(String);
        if (value === undefined && last !== undefined) {
          return [{ path: parent, at: 'value', message: `missing required key "${last}" (one of ${options.join(', ')})` }];
        }
        const suggestion = typeof value === 'string' ? didYouMean(value, options) : '';
        return [{ path, at: 'value', message: `must be one of ${options.join(', ')}${found}${suggestion}` }];
      }
      // a union with a list of names among its options (groupBy: the fields, or metadata.<key>)
      const names = issue.errors.flat().flatMap((inner) => (inner.code === 'invalid_value' ? inner.values.map(String) : []));
      const suggestion = typeof value === 'string' && names.length > 0 ? didYouMean(value, names) : '';
      return [{ path, at: 'value', message: `${issue.message}${found}${suggestion}` }];
    }
    case 'invalid_value': {
      const options = issue.values.map(String);
      const suggestion = typeof value === 'string' ? didYouMean(value, options) : '';
      return [{ path, at: 'value', message: `must be one of ${options.join(', ')}${found}${suggestion}` }];
    }
    case 'invalid_format':
      return [{ path, at: 'value', message: `${issue.message}${found}` }];
    case 'too_small':
    case 'too_big':
      return [{ path, at: 'value', message: describeBound(issue) }];
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? issue.message;
      return [{ path, at: 'key', message: `invalid name ${JSON.stringify(String(last))}: ${inner}` }];
    }
    default:
      return [{ path, at: 'value', message: issue.message }];
  }
}

function describeBound(issue: core.$ZodIssueTooSmall | core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const bound = Number(small ? issue.minimum : issue.maximum);
  if (issue.origin === 'array') {
    if (small && bound === 1) return 'must not be empty';
    return small ? `needs at least ${bound} items` : `may have at most ${bound} items`;
  }
  if (issue.origin === 'string') {
    if (small && bound === 1) return 'must not be empty';
    return small ? `must be at least ${bound} characters long` : `must be at most ${bound} characters long`;
  }
  if (small) return issue.inclusive === false ? `must be greater than ${bound}` : `must be at least ${bound}`;
  return issue.inclusive === false ? `must be less than ${bound}` : `must be at most ${bound}`;
}
