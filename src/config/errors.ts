// Problems found in alerts.yaml. Every message is safe to print: values of secret-bearing keys
// never appear in one (see isSecretPath in ./schema.ts).

export type ConfigPath = readonly (string | number)[];

export interface ConfigIssue {
  /** the config file as the user named it */
  readonly file: string;
  /** 1-based; absent when the problem is the file itself (missing, unreadable) */
  readonly line?: number;
  readonly col?: number;
  /** where in the document, like `alerts[1].channels[0]`; '' for the document itself */
  readonly path: string;
  readonly message: string;
}

/** Same shape as an issue: something that works but is probably not what the user meant. */
export type ConfigWarning = ConfigIssue;

/** `alerts.yaml:12:7 alerts[1].channels[0]: unknown channel "slak-ops" (defined: slack-ops)` */
export function formatIssue(issue: ConfigIssue): string {
  const position = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.col ?? 1}`;
  return issue.path === '' ? `${position}: ${issue.message}` : `${position} ${issue.path}: ${issue.message}`;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }

  /** One line per issue, in file order. */
  format(): string {
    return this.message;
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['alerts', 1, 'channels', 0]` → `alerts[1].channels[0]`; odd keys are quoted: `channels["a b"]`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
