// The one way into alerts.yaml, shared by validate, check, run, test-notify and demo: read, parse,
// interpolate, validate, cross-check — and report every problem at once, with line and column.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as z from 'zod/mini';
import { runCrossChecks } from './cross-checks.js';
import type { ConfigIssue, ConfigPath, ConfigWarning } from './errors.js';
import { ConfigError, formatPath } from './errors.js';
import { expandTemplate, parseTemplate } from './interpolate.js';
import type { Env, Environment } from './interpolate.js';
import { scalarKindsAt } from './introspect.js';
import type { Problem } from './issues.js';
import { describeIssues } from './issues.js';
import type { Config } from './schema.js';
import { alertSchema, configSchema, isSecretPath, LANGFUSE_DEFAULTS } from './schema.js';
import type { Position } from './source.js';
import { YamlSource } from './source.js';
import { isRecord } from '../core/record.js';
import { isPricedAtZero } from '../core/models.js';
import { credentialPair } from '../util/redact.js';

export type { Env } from './interpolate.js';
export type { Position } from './source.js';

/**
 * Which `${VAR}` references must resolve. `'all'` for check, run and validate. Otherwise only the
 * listed channels' (test-notify: the channels it sends to; demo: `'all'` of its config's), and the
 * alerts' when `alerts` is true (demo), and the langfuse block's when `langfuse` is true (models). Everything is
 * still checked for structure; what isn't needed is left out of the returned config.
 */
export type Needs = 'all' | { readonly channels: readonly string[] | 'all'; readonly alerts?: boolean; readonly langfuse?: boolean };

export interface LoadOptions {
  /** the config file, as the user gave it: issues name it so */
  readonly path: string;
  /** what a relative `path` or NAME_FILE path is relative to; default: the process's working directory */
  readonly cwd?: string;
  readonly env: Env;
  readonly needs: Needs;
  /** the file's content when it doesn't come from disk (bundled alerts); `path` still names it */
  readonly text?: string;
}

export interface LoadedConfig {
  /**
   * Validated, defaults applied. With `needs` other than `'all'`: `channels` holds only the needed
   * channels, `alerts` is empty unless needed, and a langfuse key whose variable is unset is ''.
   */
  readonly config: Config;
  readonly path: string;
  /**
   * Values to redact from logs and messages: every value of a secret-bearing key (the langfuse
   * keys, and the settings each channel's definition names as secrets), what was interpolated
   * into it, URL passwords, and the `publicKey:secretKey` pair that Langfuse's Basic
   * Authorization header encodes. Values shorter than 4 characters are left out: redacting them
   * would garble every line.
   */
  readonly secrets: readonly string[];
  readonly warnings: readonly ConfigWarning[];
  /** Line and column of the value at `path` (or of its nearest ancestor in the file). */
  locate(path: ConfigPath): Position;
}

const MIN_SECRET_LENGTH = 4;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;

export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  const file = options.path;
  const cwd = options.cwd ?? process.cwd();
  const fail = (message: string, position?: Position): never => {
    throw new ConfigError([{ file, ...position, path: '', message }]);
  };

  const text = options.text ?? (await readConfigFile(file, resolve(cwd, file)));
  const parsed = YamlSource.parse(text);
  if (!parsed.ok) throw new ConfigError(parsed.errors.map((error) => ({ file, path: '', ...error })));
  const { source } = parsed;

  let data: unknown;
  try {
    data = source.toData() ?? {};
  } catch (error) {
    fail(`YAML: ${(error as Error).message}`, { line: 1, col: 1 });
  }
  if (!isRecord(data)) {
    fail(`must be a mapping with channels and alerts, not ${Array.isArray(data) ? 'a list' : 'a single value'}`, {
      line: 1,
      col: 1,
    });
  }
  const document = withLangfuseDefaults(data as Record<string, unknown>);

  const interpolation = await interpolate(document.value, { env: options.env, cwd }, (path) =>
    isNeeded(options.needs, path),
  );
  const referenceProblems = interpolation.problems.map((problem): Problem => {
    const template = document.defaulted.get(JSON.stringify(problem.path));
    if (template === undefined) return problem;
    return { ...problem, message: `${problem.message} (the default of an omitted key is ${template})` };
  });
  const interpolated = interpolation.value;

  const validation = configSchema.safeParse(interpolated);
  const findings = runCrossChecks(interpolated);
  const checkProblems: Problem[] = [
    ...(validation.success
      ? []
      : describeIssues(validation.error.issues, { document: interpolated, templates: interpolation.templates })),
    ...findings.filter((finding) => finding.level === 'error').map((finding) => ({ ...finding, at: 'value' as const })),
  ];

  // A value still holding its `${…}` text (not needed, or already reported) says nothing about the
  // schema; its key still does (a typo'd key holding a reference).
  const unchecked = [...interpolation.unresolved, ...referenceProblems.map((problem) => problem.path)];
  const caused = (problem: Pick<Problem, 'path' | 'at'>): boolean =>
    problem.at === 'value' && unchecked.some((prefix) => isPrefix(prefix, problem.path));
  const toIssue = (problem: Problem): ConfigIssue => ({
    file,
    ...(problem.at === 'key' ? source.locateKey(problem.path) : source.locateValue(problem.path)),
    path: formatPath(problem.path),
    message: problem.message,
  });

  const errors = ordered([...referenceProblems, ...checkProblems.filter((problem) => !caused(problem))].map(toIssue));
  if (errors.length > 0) throw new ConfigError(errors);

  const warnings = ordered(
    findings
      .filter((finding) => finding.level === 'warning' && !caused({ path: finding.path, at: 'value' }))
      .map((finding) => toIssue({ ...finding, at: 'value' })),
  );
  const config = withFreeModelsIgnored(
    options.needs === 'all' && validation.success
      ? validation.data
      : narrow(interpolated as Record<string, unknown>, options.needs, interpolation.unresolved),
  );

  return {
    config,
    path: file,
    secrets: [...new Set([...interpolation.secrets, ...langfuseKeyPair(interpolation)])].filter(
      (secret) => secret.length >= MIN_SECRET_LENGTH,
    ),
    warnings,
    locate: (path) => source.locateValue(path),
  };
}

/**
 * The models `models:` prices at 0 are free on purpose: every unpriced alert ignores them as if
 * its `ignore` listed them (the unpriced rule leaves that to whoever builds the alert).
 */
function withFreeModelsIgnored(config: Config): Config {
  const free = config.models.filter(isPricedAtZero).map((model) => model.modelName);
  if (free.length === 0) return config;
  return {
    ...config,
    alerts: config.alerts.map((alert) =>
      alert.unpriced === undefined ? alert : { ...alert, unpriced: { ...alert.unpriced, ignore: [...new Set([...alert.unpriced.ignore, ...free])] } },
    ),
  };
}

/** The Langfuse `publicKey:secretKey` pair, whose base64 is the Basic header a peer may echo back. */
function langfuseKeyPair({ value, unresolved }: Interpolation): string[] {
  // a key whose variable is unset and not needed still reads `${…}`: no secret in it
  if (unresolved.some(([section]) => section === 'langfuse')) return [];
  const langfuse = isRecord(value) && isRecord(value['langfuse']) ? value['langfuse'] : {};
  const { publicKey, secretKey } = langfuse;
  return typeof publicKey === 'string' && typeof secretKey === 'string' ? credentialPair(publicKey, secretKey) : [];
}

async function readConfigFile(file: string, absolute: string): Promise<string> {
  try {
    return await readFile(absolute, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file, path: '', message: `cannot read the configuration: ${describeFsError(error)}` }]);
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? (error as Error).message;
}

function isPrefix(prefix: ConfigPath, path: ConfigPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, index) => segment === path[index]);
}

function ordered(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues
    .filter((issue) => {
      const key = `${issue.line}:${issue.col}:${issue.path}:${issue.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** An omitted langfuse block, or omitted keys of it, become the documented `${…}` defaults. */
function withLangfuseDefaults(data: Record<string, unknown>): {
  value: Record<string, unknown>;
  /** path (JSON) → the template put there */
  defaulted: Map<string, string>;
} {
  const defaulted = new Map<string, string>();
  const given = data['langfuse'];
  if (given !== undefined && !isRecord(given)) return { value: data, defaulted };
  const langfuse: Record<string, unknown> = { ...given };
  for (const [key, template] of Object.entries(LANGFUSE_DEFAULTS)) {
    if (langfuse[key] !== undefined) continue;
    langfuse[key] = template;
    defaulted.set(JSON.stringify(['langfuse', key]), template);
  }
  return { value: { ...data, langfuse }, defaulted };
}

function isNeeded(needs: Needs, path: ConfigPath): boolean {
  if (needs === 'all') return true;
  const [section, name] = path;
  if (section === 'langfuse') return needs.langfuse === true;
  if (section === 'channels') return needs.channels === 'all' || needs.channels.includes(String(name));
  if (section === 'alerts') return needs.alerts === true;
  return true;
}

interface Interpolation {
  readonly value: unknown;
  readonly problems: Problem[];
  /** values whose variables are unset but not needed: they keep their `${…}` text */
  readonly unresolved: ConfigPath[];
  readonly templates: Map<string, string>;
  readonly secrets: string[];
}

async function interpolate(
  document: unknown,
  environment: Environment,
  needed: (path: ConfigPath) => boolean,
): Promise<Interpolation> {
  const result: Interpolation = { value: undefined, problems: [], unresolved: [], templates: new Map(), secrets: [] };

  const visit = async (value: unknown, path: ConfigPath): Promise<unknown> => {
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      for (const [index, item] of value.entries()) items.push(await visit(item, [...path, index]));
      return items;
    }
    if (isRecord(value)) {
      const entries: [string, unknown][] = [];
      for (const [key, item] of Object.entries(value)) entries.push([key, await visit(item, [...path, key])]);
      return Object.fromEntries(entries);
    }
    if (typeof value !== 'string') return value;
    const secret = isSecretPath(path, document);
    if (!value.includes('$')) {
      if (secret) result.secrets.push(...secretParts(value));
      return value;
    }
    const template = parseTemplate(value);
    if (!template.ok) {
      result.problems.push({ path, at: 'value', message: template.error });
      return value;
    }
    const expansion = await expandTemplate(template, environment);
    if (!expansion.ok) {
      if (!needed(path)) result.unresolved.push(path);
      else result.problems.push(...expansion.problems.map((message) => ({ path, at: 'value' as const, message })));
      return value;
    }
    if (secret) result.secrets.push(...secretParts(expansion.value), ...expansion.used);
    if (template.variables.length === 0) return expansion.value;
    result.templates.set(JSON.stringify(path), value);
    return coerce(expansion.value, path);
  };

  return { ...result, value: await visit(document, []) };
}

/** A referenced value is text; where the schema wants a number or a boolean, it becomes one. */
function coerce(value: string, path: ConfigPath): unknown {
  const kinds = scalarKindsAt(configSchema, path);
  if (kinds.has('string')) return value;
  const trimmed = value.trim();
  if (kinds.has('number') && NUMBER.test(trimmed)) return Number(trimmed);
  if (kinds.has('boolean') && BOOLEAN.test(trimmed)) return trimmed.toLowerCase() === 'true';
  return value;
}

function secretParts(value: string): string[] {
  let password: string;
  try {
    password = new URL(value).password;
  } catch {
    return [value];
  }
  if (password === '') return [value];
  try {
    return [value, password, decodeURIComponent(password)];
  } catch {
    return [value, password];
  }
}

const assemblySchema = z.extend(configSchema, { alerts: z.array(alertSchema) });

/** The config a command that doesn't need everything gets: see LoadedConfig.config. */
function narrow(document: Record<string, unknown>, needs: Needs, unresolved: readonly ConfigPath[]): Config {
  const neededChannels = needs === 'all' ? 'all' : needs.channels;
  const channels = Object.fromEntries(
    Object.entries(isRecord(document['channels']) ? document['channels'] : {}).filter(
      ([name]) => neededChannels === 'all' || neededChannels.includes(name),
    ),
  );
  const alerts = needs === 'all' || needs.alerts === true ? document['alerts'] : [];
  const missing = unresolved.filter((path) => path[0] === 'langfuse' && path.length === 2).map((path) => String(path[1]));
  const langfuse = Object.fromEntries(
    Object.entries(isRecord(document['langfuse']) ? document['langfuse'] : {}).filter(([key]) => !missing.includes(key)),
  );
  const config = assemblySchema.parse({ ...document, langfuse, channels, alerts });
  for (const key of missing) (config.langfuse as Record<string, string>)[key] = '';
  return config;
}
