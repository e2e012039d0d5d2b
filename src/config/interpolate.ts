// `${VAR}`, `${VAR:-default}` and `$$` inside one string value. It runs on parsed YAML, so a
// value from the environment is plain data: it is never parsed as YAML nor interpolated again.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Environment {
  readonly env: Env;
  /** what a relative NAME_FILE path is relative to */
  readonly cwd: string;
}

type Part = { readonly text: string } | { readonly variable: string; readonly fallback?: string };

export type Template =
  | { readonly ok: true; readonly parts: readonly Part[]; readonly variables: readonly string[] }
  | { readonly ok: false; readonly error: string };

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?$/;

/**
 * `$$` is a literal `$`; a `$` followed by anything but `{` or `$` is kept as it is, so prices and
 * passwords written literally survive. A `${` that is not a well-formed reference is an error
 * rather than silently kept: it is almost always a typo.
 */
export function parseTemplate(value: string): Template {
  const parts: Part[] = [];
  const variables: string[] = [];
  let text = '';
  let i = 0;
  while (i < value.length) {
    const char = value[i];
    const next = value[i + 1];
    if (char === '$' && next === '$') {
      text += '$';
      i += 2;
    } else if (char === '$' && next === '{') {
      const end = value.indexOf('}', i + 2);
      const body = end === -1 ? undefined : value.slice(i + 2, end);
      const match = body === undefined ? null : REFERENCE.exec(body);
      if (match === null) {
        const shown = end === -1 ? value.slice(i) : value.slice(i, end + 1);
        return {
          ok: false,
          error: `invalid reference ${JSON.stringify(shown)}: write \${NAME} or \${NAME:-default}, and $$ for a literal $`,
        };
      }
      if (text !== '') parts.push({ text });
      text = '';
      const variable = match[1] as string;
      parts.push(match[2] === undefined ? { variable } : { variable, fallback: match[2] });
      variables.push(variable);
      i = (end as number) + 1;
    } else {
      text += char;
      i += 1;
    }
  }
  if (text !== '') parts.push({ text });
  return { ok: true, parts, variables };
}

export type Lookup =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: 'unset' | 'empty' | 'unreadable'; readonly message: string };

/**
 * A variable's value: `NAME` when it is non-empty, else the content of the file `NAME_FILE` names
 * (Docker and Kubernetes secrets), without one trailing newline.
 */
export async function lookupVariable(name: string, { env, cwd }: Environment): Promise<Lookup> {
  const direct = env[name];
  if (direct !== undefined && direct !== '') return { ok: true, value: direct };
  const file = env[`${name}_FILE`];
  if (file !== undefined && file !== '') {
    let content: string;
    try {
      content = await readFile(resolve(cwd, file), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      return {
        ok: false,
        reason: 'unreadable',
        message: `cannot read ${name}_FILE (${file}): ${code}`,
      };
    }
    const value = content.replace(/\r?\n$/, '');
    if (value !== '') return { ok: true, value };
    return { ok: false, reason: 'empty', message: `${name}_FILE (${file}) is empty` };
  }
  return direct === undefined
    ? { ok: false, reason: 'unset', message: `environment variable ${name} is not set` }
    : { ok: false, reason: 'empty', message: `environment variable ${name} is empty` };
}

export type Expansion =
  | {
      readonly ok: true;
      readonly value: string;
      /** the values that came from the environment */
      readonly used: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

/** `:-default` applies when the variable is unset or empty, like the shell's. */
export async function expandTemplate(
  template: Extract<Template, { ok: true }>,
  environment: Environment,
): Promise<Expansion> {
  let value = '';
  const used: string[] = [];
  const problems: string[] = [];
  for (const part of template.parts) {
    if ('text' in part) {
      value += part.text;
      continue;
    }
    const lookup = await lookupVariable(part.variable, environment);
    if (lookup.ok) {
      value += lookup.value;
      used.push(lookup.value);
    } else if (part.fallback !== undefined && lookup.reason !== 'unreadable') {
      value += part.fallback;
    } else {
      problems.push(lookup.message);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value, used };
}
